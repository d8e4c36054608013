import { createContext, useContext } from 'react';

/**
 * Every string on the page, in one place: Dutch (the default: the officers work in Dutch) and
 * English. `{name}` marks a value filled in by `t(key, { name })`.
 */
const nl = {
  'app.title': 'Convenant – toezicht',
  'app.subtitle': 'Voor de functionaris gegevensbescherming',
  'app.skip': 'Naar de inhoud',
  'app.signOut': 'Afmelden',
  'app.signedInAs': 'Aangemeld als {professional} ({partner})',
  'app.language': 'Taal',
  'app.switchLanguage': 'English',
  'nav.label': 'Onderdelen',
  'nav.log': 'Toegangslog',
  'nav.subject': 'Betrokkene',
  'nav.emergency': 'Doorbraken',
  'nav.integrity': 'Integriteit',
  'nav.convenant': 'Convenant',

  loading: 'Bezig met laden…',
  yes: 'ja',
  no: 'nee',
  any: 'alle',
  none: '—',

  'signIn.title': 'Aanmelden',
  'signIn.intro':
    'Meld u aan met een toegangstoken van toezicht (partner van het soort toezicht, doel toezicht). Het token blijft alleen in dit tabblad bewaard en verdwijnt als u het sluit.',
  'signIn.token': 'Toegangstoken',
  'signIn.tokenHelp':
    'Voor de demo: npx convenant token --officer. In productie vraagt uw systeem het token op bij POST /v1/oauth/token.',
  'signIn.submit': 'Aanmelden',
  'signIn.empty': 'Vul een toegangstoken in.',
  'signIn.notOfficer':
    'Dit token hoort bij {partner} met doel {purpose}, niet bij toezicht. Alleen functionarissen gegevensbescherming kunnen hier aanmelden.',
  'signIn.expired': 'Uw sessie is verlopen of het token is niet meer geldig. Meld u opnieuw aan.',

  'log.title': 'Toegangslog',
  'log.intro':
    'Elke toegang tot gedeelde casusgegevens, toegestaan en geweigerd, nieuwste eerst. Elke zoekvraag wordt zelf ook gelogd.',
  'log.filters': 'Filters',
  'log.from': 'Vanaf',
  'log.to': 'Tot',
  'log.case': 'Casus (id)',
  'log.partner': 'Partner',
  'log.purpose': 'Doel',
  'log.outcome': 'Uitkomst',
  'log.emergency': 'Doorbraak',
  'log.search': 'Zoeken',
  'log.reset': 'Wissen',
  'log.more': 'Meer laden',
  'log.count': '{count} regels geladen',
  'log.countMore': '{count} regels geladen; er zijn er meer',
  'log.empty': 'Geen toegangen gevonden met deze filters.',
  'log.table': 'Toegangen',
  'log.when': 'Wanneer',
  'log.action': 'Handeling',
  'log.professional': 'Medewerker',
  'log.subject': 'Betrokkene',
  'log.fields': 'Velden',
  'log.open': 'Bekijk',
  'log.openEntry': 'Bekijk regel {seq}',
  'log.invalidCase': 'Een casus-id is een UUID, zoals 11111111-1111-4111-8111-111111111111.',
  'log.invalidRange': '“Vanaf” moet vóór “Tot” liggen.',
  'outcome.allowed': 'toegestaan',
  'outcome.denied': 'geweigerd',
  'action.authenticate': 'aangemeld',
  'action.list': 'overzicht',
  'action.read': 'ingezien',
  'action.write': 'vastgelegd',
  'action.manage': 'beheerd',
  'action.history': 'historie',
  'action.audit': 'toezicht',

  'chart.title': 'Toegangen per dag en per partner',
  'chart.titleHourly': 'Toegangen per uur en per partner',
  'chart.hour': 'Uur',
  'chart.caption': 'Alle {count} toegangen met deze filters, in Nederlandse tijd.',
  'chart.empty': 'Geen toegangen met deze filters, dus geen grafiek.',
  'chart.error': 'De grafiek kon niet worden geladen. {detail}',
  'chart.denied': 'Waarvan geweigerd',
  'chart.perPartner': 'Per partner',
  'chart.asTable': 'Toon de cijfers als tabel',
  'chart.day': 'Dag',
  'chart.total': 'Totaal',
  'chart.bar': '{day}: {count} toegangen',

  'entry.title': 'Regel {seq}',
  'entry.close': 'Sluiten',
  'entry.seq': 'Positie in het log',
  'entry.trace': 'Trace-id',
  'entry.rule': 'Beslissende regel',
  'entry.reason': 'Reden',
  'entry.policyVersion': 'Convenantversie',
  'entry.legalBasis': 'Grondslag',
  'entry.noRule': 'geen regel (geweigerd voordat een regel besliste)',
  'entry.noRuleAllowed': 'geen regel (niet door een regel van het convenant beslist)',
  'entry.openSubject': 'Overzicht voor deze betrokkene',
  'entry.filterCase': 'Alle toegangen tot deze casus',

  'subject.title': 'Betrokkene',
  'subject.intro':
    'Het overzicht volgens artikel 15 AVG: wie gegevens over deze persoon heeft ingezien of vastgelegd, wanneer, voor welk doel en op welke grondslag. De referentie gaat in de aanvraag, nooit in het adres van de pagina.',
  'subject.ref': 'Referentie van de betrokkene',
  'subject.refHelp':
    'Een pseudoniem zoals p_abcdefghijklmnopqrst; u vindt het bij een regel in het toegangslog.',
  'subject.includeProfessionals': 'Toon ook welke medewerker',
  'subject.submit': 'Overzicht opstellen',
  'subject.print': 'Afdrukken',
  'subject.download': 'Download als HTML',
  'subject.invalid': 'Een referentie begint met p_ en heeft daarna twintig letters of cijfers.',
  'subject.summary': 'Betrokkene {ref}: {count} toegangen. Opgesteld {when}, convenantversie {version}.',
  'subject.empty': 'Er zijn geen toegangen tot gegevens van deze betrokkene gelogd.',
  'subject.table': 'Toegangen tot gegevens van de betrokkene',
  'subject.organisation': 'Organisatie',
  'subject.categories': 'Soort gegevens',

  'emergency.title': 'Doorbraken',
  'emergency.intro':
    'Toegang die een partner met spoed nam (doorbraak) wacht op uw oordeel. Het eerste oordeel blijft staan.',
  'emergency.pending': 'Te beoordelen',
  'emergency.reviewed': 'Beoordeeld',
  'emergency.show': 'Tonen',
  'emergency.empty': 'Er wachten geen doorbraken op beoordeling.',
  'emergency.emptyReviewed': 'Er zijn nog geen doorbraken beoordeeld.',
  'emergency.item': 'Doorbraak {seq} door {partner}',
  'emergency.judgement': 'Oordeel',
  'emergency.lawful': 'Rechtmatig',
  'emergency.unlawful': 'Onrechtmatig',
  'emergency.unclear': 'Onduidelijk',
  'emergency.comment': 'Toelichting',
  'emergency.submit': 'Oordeel vastleggen',
  'emergency.needJudgement': 'Kies een oordeel.',
  'emergency.needComment': 'Schrijf een toelichting bij uw oordeel.',
  'emergency.recorded': 'Oordeel over doorbraak {seq} vastgelegd: {judgement}.',
  'emergency.reviewedBy': '{judgement} volgens {by}, {when}: {comment}',

  'integrity.title': 'Integriteit',
  'integrity.intro':
    'Het toegangslog is een hashketen met ondertekende controlepunten. Een controle rekent de keten opnieuw na en toetst elke handtekening.',
  'integrity.run': 'Controle uitvoeren',
  'integrity.notRun': 'In deze sessie is de keten nog niet gecontroleerd.',
  'integrity.ok': 'De keten is in orde.',
  'integrity.failed': 'De keten is NIET in orde: {problem} op positie {position} (seq {seq}).',
  'integrity.entries': 'Nagerekende regels',
  'integrity.checkpoints': 'Controlepunten getoetst',
  'integrity.pending': 'Nog niet in de keten (nieuwste regels)',
  'integrity.head': 'Kop van de keten',
  'integrity.lastCheckpoint': 'Laatste controlepunt',
  'integrity.lastCheckpointAt': 'positie {position}, {when}',
  'integrity.noCheckpoint': 'nog geen',
  'integrity.checkedAt': 'Gecontroleerd',

  'convenant.title': 'Convenant',
  'convenant.intro':
    'Welke partner voor welk doel welke onderdelen mag inzien en vastleggen, en de tekst van het convenant in gewone taal.',
  'convenant.matrix': 'Partners × doelen',
  'convenant.partnerPurpose': 'Partner / doel',
  'convenant.read': 'inzien',
  'convenant.write': 'vastleggen',
  'convenant.level.all': 'alles',
  'convenant.level.some': 'deels',
  'convenant.level.none': 'niets',
  'convenant.readShort': 'I',
  'convenant.writeShort': 'V',
  'convenant.emergencyAllowed': 'een doorbraak opent meer',
  'convenant.legend':
    'I = inzien, V = vastleggen: alles, deels of niets van de velden van dat onderdeel, in de gewone gang van zaken. ! = een doorbraak opent velden die anders dicht zijn.',
  'convenant.document': 'Het convenant in gewone taal',
  'convenant.version': '{convenant}, versie {version}',

  'error.network': 'De gateway is niet bereikbaar. Controleer de verbinding en probeer het opnieuw.',
  'error.400': 'De aanvraag klopt niet: {detail}',
  'error.401': 'Uw sessie is verlopen of het token is niet geldig. Meld u opnieuw aan.',
  'error.403': 'U heeft hiervoor geen toegang: {detail}',
  'error.404': 'Dit bestaat niet (meer): {detail}',
  'error.409': 'Dit is al gebeurd: {detail}',
  'error.503':
    'De gateway kan dit nu niet veilig uitvoeren (het log kan niet worden geschreven). Probeer het later opnieuw.',
  'error.other': 'Er ging iets mis ({status}): {detail}',
};

export type MessageKey = keyof typeof nl;

const en: Record<MessageKey, string> = {
  'app.title': 'Convenant – oversight',
  'app.subtitle': 'For the privacy officer (data protection officer)',
  'app.skip': 'Skip to content',
  'app.signOut': 'Sign out',
  'app.signedInAs': 'Signed in as {professional} ({partner})',
  'app.language': 'Language',
  'app.switchLanguage': 'Nederlands',
  'nav.label': 'Sections',
  'nav.log': 'Access log',
  'nav.subject': 'Data subject',
  'nav.emergency': 'Emergency access',
  'nav.integrity': 'Integrity',
  'nav.convenant': 'Convenant',

  loading: 'Loading…',
  yes: 'yes',
  no: 'no',
  any: 'any',
  none: '—',

  'signIn.title': 'Sign in',
  'signIn.intro':
    'Sign in with an oversight access token (a partner of kind toezicht, purpose toezicht). The token is kept in this tab only and is gone when you close it.',
  'signIn.token': 'Access token',
  'signIn.tokenHelp':
    'For the demo: npx convenant token --officer. In production your system obtains the token from POST /v1/oauth/token.',
  'signIn.submit': 'Sign in',
  'signIn.empty': 'Enter an access token.',
  'signIn.notOfficer':
    'This token belongs to {partner} with purpose {purpose}, not to oversight. Only privacy officers can sign in here.',
  'signIn.expired': 'Your session has expired or the token is no longer valid. Please sign in again.',

  'log.title': 'Access log',
  'log.intro':
    'Every access to shared case data, allowed and denied, newest first. Every search is itself logged.',
  'log.filters': 'Filters',
  'log.from': 'From',
  'log.to': 'Until',
  'log.case': 'Case (id)',
  'log.partner': 'Partner',
  'log.purpose': 'Purpose',
  'log.outcome': 'Outcome',
  'log.emergency': 'Emergency access',
  'log.search': 'Search',
  'log.reset': 'Clear',
  'log.more': 'Load more',
  'log.count': '{count} entries loaded',
  'log.countMore': '{count} entries loaded; there are more',
  'log.empty': 'No accesses match these filters.',
  'log.table': 'Accesses',
  'log.when': 'When',
  'log.action': 'Action',
  'log.professional': 'Professional',
  'log.subject': 'Data subject',
  'log.fields': 'Fields',
  'log.open': 'Open',
  'log.openEntry': 'Open entry {seq}',
  'log.invalidCase': 'A case id is a UUID, such as 11111111-1111-4111-8111-111111111111.',
  'log.invalidRange': '“From” must be before “Until”.',
  'outcome.allowed': 'allowed',
  'outcome.denied': 'denied',
  'action.authenticate': 'authenticated',
  'action.list': 'list',
  'action.read': 'read',
  'action.write': 'recorded',
  'action.manage': 'managed',
  'action.history': 'history',
  'action.audit': 'oversight',

  'chart.title': 'Accesses per day and per partner',
  'chart.titleHourly': 'Accesses per hour and per partner',
  'chart.hour': 'Hour',
  'chart.caption': 'All {count} accesses matching these filters, in Dutch time.',
  'chart.empty': 'No accesses match these filters, so there is no chart.',
  'chart.error': 'The chart could not be loaded. {detail}',
  'chart.denied': 'Of which denied',
  'chart.perPartner': 'Per partner',
  'chart.asTable': 'Show the figures as a table',
  'chart.day': 'Day',
  'chart.total': 'Total',
  'chart.bar': '{day}: {count} accesses',

  'entry.title': 'Entry {seq}',
  'entry.close': 'Close',
  'entry.seq': 'Position in the log',
  'entry.trace': 'Trace id',
  'entry.rule': 'Deciding rule',
  'entry.reason': 'Reason',
  'entry.policyVersion': 'Convenant version',
  'entry.legalBasis': 'Legal basis',
  'entry.noRule': 'no rule (refused before a rule decided)',
  'entry.noRuleAllowed': 'no rule (not decided by a rule of the convenant)',
  'entry.openSubject': 'Report for this data subject',
  'entry.filterCase': 'All accesses to this case',

  'subject.title': 'Data subject',
  'subject.intro':
    "The GDPR art. 15 overview: who read or recorded this person's data, when, for which purpose and on which legal basis. The reference travels in the request, never in the page's address.",
  'subject.ref': 'Reference of the data subject',
  'subject.refHelp':
    'A pseudonym such as p_abcdefghijklmnopqrst; you find it with an entry in the access log.',
  'subject.includeProfessionals': 'Also show which professional',
  'subject.submit': 'Make the report',
  'subject.print': 'Print',
  'subject.download': 'Download as HTML',
  'subject.invalid': 'A reference starts with p_ followed by twenty letters or digits.',
  'subject.summary': 'Data subject {ref}: {count} accesses. Made {when}, convenant version {version}.',
  'subject.empty': "No access to this data subject's data has been logged.",
  'subject.table': "Accesses to the data subject's data",
  'subject.organisation': 'Organisation',
  'subject.categories': 'Kind of data',

  'emergency.title': 'Emergency access',
  'emergency.intro':
    'Access a partner took urgently (doorbraak) awaits your judgement. The first judgement stands.',
  'emergency.pending': 'To review',
  'emergency.reviewed': 'Reviewed',
  'emergency.show': 'Show',
  'emergency.empty': 'No emergency access awaits review.',
  'emergency.emptyReviewed': 'No emergency access has been reviewed yet.',
  'emergency.item': 'Emergency access {seq} by {partner}',
  'emergency.judgement': 'Judgement',
  'emergency.lawful': 'Lawful',
  'emergency.unlawful': 'Unlawful',
  'emergency.unclear': 'Unclear',
  'emergency.comment': 'Comment',
  'emergency.submit': 'Record judgement',
  'emergency.needJudgement': 'Choose a judgement.',
  'emergency.needComment': 'Write a comment with your judgement.',
  'emergency.recorded': 'Judgement on emergency access {seq} recorded: {judgement}.',
  'emergency.reviewedBy': '{judgement} according to {by}, {when}: {comment}',

  'integrity.title': 'Integrity',
  'integrity.intro':
    'The access log is a hash chain with signed checkpoints. A verification recomputes the chain and checks every signature.',
  'integrity.run': 'Run a verification',
  'integrity.notRun': 'The chain has not been verified in this session yet.',
  'integrity.ok': 'The chain is intact.',
  'integrity.failed': 'The chain is NOT intact: {problem} at position {position} (seq {seq}).',
  'integrity.entries': 'Entries recomputed',
  'integrity.checkpoints': 'Checkpoints checked',
  'integrity.pending': 'Not in the chain yet (newest entries)',
  'integrity.head': 'Chain head',
  'integrity.lastCheckpoint': 'Last checkpoint',
  'integrity.lastCheckpointAt': 'position {position}, {when}',
  'integrity.noCheckpoint': 'none yet',
  'integrity.checkedAt': 'Verified',

  'convenant.title': 'Convenant',
  'convenant.intro':
    'Which partner may read and record which sections for which purpose, and the text of the convenant in plain language.',
  'convenant.matrix': 'Partners × purposes',
  'convenant.partnerPurpose': 'Partner / purpose',
  'convenant.read': 'read',
  'convenant.write': 'record',
  'convenant.level.all': 'all',
  'convenant.level.some': 'some',
  'convenant.level.none': 'none',
  'convenant.readShort': 'R',
  'convenant.writeShort': 'W',
  'convenant.emergencyAllowed': 'emergency access opens more',
  'convenant.legend':
    'R = read, W = record: all, some or none of the fields of that section, in the ordinary course. ! = emergency access opens fields that are otherwise closed.',
  'convenant.document': 'The convenant in plain language',
  'convenant.version': '{convenant}, version {version}',

  'error.network': 'The gateway cannot be reached. Check the connection and try again.',
  'error.400': 'The request is not right: {detail}',
  'error.401': 'Your session has expired or the token is not valid. Please sign in again.',
  'error.403': 'You may not do this: {detail}',
  'error.404': 'This does not exist (any more): {detail}',
  'error.409': 'This has already happened: {detail}',
  'error.503': 'The gateway cannot do this safely now (the log cannot be written). Try again later.',
  'error.other': 'Something went wrong ({status}): {detail}',
};

export type Language = 'nl' | 'en';
export const MESSAGES: Record<Language, Record<MessageKey, string>> = { nl, en };

export type Translate = (key: MessageKey, vars?: Record<string, string | number>) => string;

/**
 * The deciding rule of a log entry, or why there is none: a refusal before any rule decided
 * (unknown partner, bad token), or an allowed step no field rule decides (an emergency grant, a
 * list, the officer's own query).
 */
export function ruleText(
  t: Translate,
  entry: { ruleId: string | null; outcome: 'allowed' | 'denied' },
): string {
  return entry.ruleId ?? t(entry.outcome === 'denied' ? 'entry.noRule' : 'entry.noRuleAllowed');
}

export function translator(language: Language): Translate {
  const messages = MESSAGES[language];
  return (key, vars = {}) =>
    messages[key].replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

export function formatDateTime(language: Language, iso: string): string {
  return new Date(iso).toLocaleString(language === 'nl' ? 'nl-NL' : 'en-GB', {
    timeZone: 'Europe/Amsterdam',
    dateStyle: 'medium',
    timeStyle: 'medium',
  });
}

export interface I18n {
  language: Language;
  t: Translate;
  dateTime: (iso: string) => string;
}

export const I18nContext = createContext<I18n>({
  language: 'nl',
  t: translator('nl'),
  dateTime: (iso) => formatDateTime('nl', iso),
});

export function useI18n(): I18n {
  return useContext(I18nContext);
}
