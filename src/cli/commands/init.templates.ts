/**
 * The files `convenant init` writes: a small convenant that validates and passes its own tests,
 * and teaches the format by its comments (in Dutch, for the jurists who will edit it). Each file
 * is one part, as in the example convenants under policies/.
 */
export interface InitValues {
  id: string;
  title: string;
  /** Path of convenant.schema.json as seen from the new folder, for the YAML language server. */
  schema: string;
  /** Today, YYYY-MM-DD: the date the convenant takes effect until the jurist sets another. */
  today: string;
}

export function initFiles(v: InitValues): Record<string, string> {
  const head = (part: string) => `# yaml-language-server: $schema=${v.schema}\n#\n# ${part}\n`;
  return {
    '00-convenant.yaml': `${head('Deel 0: wat dit convenant is, de casuskenmerken en de grondslagen.')}#
# Dit convenant is gemaakt met \`convenant init\`. Het is klein maar compleet: het valideert en zijn
# toetsen slagen. Pas het stap voor stap aan en draai na elke stap:
#   npx convenant validate <deze map>     alle fouten met bestand:regel:kolom
#   npx convenant test <deze map>         de toetsen in 90-tests.yaml
# Regels die beginnen met # zijn uitleg; de gateway leest ze niet.

# Een korte, vaste naam (kleine letters en streepjes). De casusnummers in de gateway beginnen met
# het eerste deel ervan (of de beginletters van de delen), bijvoorbeeld VH-2026-000123.
convenant: ${v.id}
title: ${v.title}
# Elke wijziging krijgt een nieuwe versie; de gateway legt bij elke toegang vast onder welke
# versie (en welke inhoud) is beslist.
version: '${v.today.slice(0, 4)}.1'
effective_from: ${v.today}

# Wat het getekende convenant naast de regels zegt; \`convenant render\` neemt het letterlijk over.
# Vervang elke tekst door die van uw netwerk. Een partij is een partner-id hieronder, of
# \`controller-of-record\` (de partner die de casus inbracht) of, bij informatieplicht,
# \`every-partner\`. Duur en termijnen zijn ISO-8601: P4Y vier jaar, P3M drie maanden, PT72H 72 uur.
# Zonder dit blok valideert het convenant wel, maar toont het document "[In te vullen: …]" waar
# deze tekst had moeten staan.
agreement:
  preamble: |
    De partners werken samen in het netwerk om de veiligheid van betrokkenen te vergroten. Zij
    leggen in dit convenant vast welke gegevens zij delen, voor welk doel, op welke grondslag en
    hoe lang, en hoe betrokkenen hun rechten uitoefenen.

    Dit convenant berust op bestaande wetgeving; het schept geen nieuwe bevoegdheden.
  term:
    duration: P4Y # weglaten: voor onbepaalde tijd
    evaluation: P1Y
    notice: P3M # opzegtermijn van een partner
  amendment: >-
    Een wijziging gaat in als alle partners haar schriftelijk hebben goedgekeurd en de gateway de
    nieuwe versie zonder fouten heeft gecontroleerd; tot dan blijft de vorige versie gelden.
  joint_controllership: # AVG art. 26: wie doet wat, en het aanspreekpunt voor betrokkenen
    arrangement: >-
      De partners zijn gezamenlijk verwerkingsverantwoordelijk voor de gedeelde casusverwerking in
      de gateway; elke partner blijft verantwoordelijk voor de gegevens die hij vastlegt.
    contact_point: controller-of-record
  dpia: # AVG art. 35; voeg \`date: JJJJ-MM-DD\` toe zodra de DPIA is afgerond
    reference: DPIA gegevensdeling van het netwerk, versie 1.0
    coordinator: regie
  information_duties: # AVG art. 13 en 14
    by: every-partner
    how: Elke partner informeert zijn eigen cliënten bij het eerste contact over de gegevensdeling.
  processor: # AVG art. 28: wie de gateway beheert
    name: De beheerder van de gateway
    agreement: Verwerkersovereenkomst gateway, versie 1.0
    contracted_by: regie
  data_breaches: # AVG art. 33 en 34; \`validate\` weigert meer dan 72 uur voor de melding aan de AP
    report_within: PT24H
    coordinator: regie
    notifies_authority: controller-of-record
    authority_within: PT72H
    procedure: >-
      De coördinator stelt met de partners vast wie getroffen is; betrokkenen worden ingelicht als
      het lek een hoog risico voor hen meebrengt. Elke partner registreert elk lek.
  supervision: # een FG-partner ziet het log van alle partners: alleen als gezamenlijke afspraak
    officers: [{ partner: fg, scope: joint }]
    arrangement: >-
      Elke functionaris gegevensbescherming ziet toe op zijn eigen organisatie; het FG-overleg
      toetst het log van alle partners in opdracht van alle partners.

# Wie als pleger is aangemerkt, kan daarmee een strafrechtelijk gegeven zijn. Wilt u die rol
# alleen tonen aan wie dat mag weten, voeg dan een persoonsveld met sensitivity criminal toe en:
#   person_roles:
#     pleger: { disclosed_with: <sectie>.pleger-rol, shown_as: betrokkene }
#     gezinslid: { shown_as: betrokkene }
# (zie docs/handleiding-juristen.md, artikel 7).

# Casuskenmerken: eigenschappen van een casus die een regel kan noemen (\`when: { case.flag: [...] }\`).
case_flags:
  afgeschermd-adres:
    description: Het adres van een betrokkene is afgeschermd en wordt met niemand gedeeld.

# Grondslagen. Elke grondslag zegt met \`permits\` welke soorten gegevens zij rechtmatig maakt:
#   ordinary (gewone persoonsgegevens), bsn, health (gezondheid, AVG art. 9),
#   criminal (strafrechtelijk, AVG art. 10), confidential-address (afgeschermd adres).
# Een regel die iets anders dan gewone gegevens ontsluit, moet een grondslag noemen die precies
# die soort toestaat; anders weigert \`validate\` het convenant. Noem artikel en lid zoals u ze
# kunt onderbouwen, en alleen wetten die nu gelden.
# - \`applies_to\`: de soorten partners (\`kind\` in 10-partners.yaml) die zich op de grondslag
#   kunnen beroepen; een sectorwet geldt alleen voor wie zij aanspreekt. Zonder: elke partner.
# - \`exception\`: verplicht bij health of criminal: de uitzondering op het verwerkingsverbod
#   (AVG art. 9 lid 2 of art. 10, met het UAVG-artikel of de sectorwet die haar invult).
legal_bases:
  avg-6-1-e:
    citation: AVG art. 6 lid 1 sub e
    description: Vervulling van een taak van algemeen belang, zoals opgedragen in de sectorwetten.
    permits: [ordinary]
  avg-9-2-h-uavg-30-3:
    citation: AVG art. 9 lid 2 sub h en lid 3 jo. UAVG art. 30 lid 3
    exception: AVG art. 9 lid 2 sub h en lid 3 jo. UAVG art. 30 lid 3
    description: >-
      Verwerking van gegevens over gezondheid door hulpverleners met een beroepsgeheim, voor zover
      noodzakelijk voor een goede behandeling of begeleiding van de betrokkene.
    permits: [health]
    applies_to: [zorg]
  avg-38-39:
    citation: AVG art. 38 en 39
    description: Taken van de functionaris gegevensbescherming, waaronder de toetsing van doorbraken.
    permits: [ordinary]
    applies_to: [toezicht]
`,
    '10-partners.yaml': `${head('Deel 1: de partners die het convenant ondertekenen.')}#
# - \`id\` is de naam waarmee het systeem van de partner zich meldt (in zijn tokens).
# - \`kind\` groepeert partners: een regel kan \`partner_kind: [zorg]\` zeggen in plaats van elke
#   partner te noemen. Een partner van soort \`toezicht\` met doel \`toezicht\` is een
#   functionaris gegevensbescherming: die leest het toegangslog en toetst doorbraken.
# - \`purposes\`: de doelen waaronder de partner mag handelen. Een regel geldt voor een partner
#   nooit onder een doel dat hier niet bij hem staat.
# - \`keys\`: de publieke sleutels (JWKS) waarmee de gateway de tokens van de partner controleert.
#   Voor een demo maakt de gateway ze zelf (\`npx convenant keys --dev\`); in productie levert
#   elke partner zijn eigen bestand, of een \`jwks_uri\`.
# - \`signatories\`: wie voor de partner tekent; zonder plaats of datum laat het document een lijn
#   om met de hand in te vullen.

partners:
  - id: regie
    name: Procesregie van het netwerk
    kind: procesregie
    purposes: [casusoverleg]
    keys: keys/regie.jwks.json
    contact: Het secretariaat van het netwerk
    signatories: [{ name: '(naam ondertekenaar)', function: '(functie), namens de procesregie' }]

  - id: hulpverlening
    name: Hulpverlening (met beroepsgeheim)
    kind: zorg
    purposes: [casusoverleg]
    keys: keys/hulpverlening.jwks.json
    contact: De aanmeldlijn van de hulpverlening
    signatories: [{ name: '(naam ondertekenaar)', function: '(functie), namens de hulpverlening' }]

  - id: fg
    name: Functionarissen gegevensbescherming van de partners
    kind: toezicht
    purposes: [toezicht]
    keys: keys/fg.jwks.json
    contact: Het gezamenlijke FG-overleg
    signatories: [{ name: '(naam ondertekenaar)', function: 'voorzitter FG-overleg' }]
`,
    '20-purposes.yaml': `${head('Deel 2: de doelen (doelbinding).')}#
# Elk doel noemt de grondslagen waarop het steunt (uit 00-convenant.yaml), en hoe lang de gedeelde
# gegevens na afloop worden bewaard: een ISO-8601-duur, P1Y is één jaar, P6M zes maanden.
# Optioneel:
#   emergency_access: { allowed: true, window: PT60M }   een doorbraak (spoedtoegang) mag, een uur
#   involvement_matches: true                            verwijsindex: wie meldt, hoort wie nog meer
#   field_history: true                                  eerdere versies van een gegeven zichtbaar

purposes:
  - id: casusoverleg
    name: Casusoverleg
    description: >-
      De partners bespreken samen de casus, wegen de risico's en leggen vast wie wat doet.
    legal_bases: [avg-6-1-e, avg-9-2-h-uavg-30-3]
    # Twee jaar na afloop van de deelname: lang genoeg om een terugval te zien.
    retention: P2Y
    field_history: true

  - id: toezicht
    name: Toezicht door de functionaris gegevensbescherming
    description: >-
      De functionarissen gegevensbescherming toetsen doorbraken en behandelen verzoeken van
      betrokkenen; zij zien alleen kerngegevens, niet de inhoud.
    legal_bases: [avg-38-39]
    retention: P5Y
`,
    '30-catalogue.yaml': `${head('Deel 3: de gegevenscatalogus: alleen wat hier staat kan worden gedeeld.')}#
# Een veld heet \`<onderdeel>.<naam>\`, bijvoorbeeld \`plan.afspraken\`. Per veld:
#   sensitivity  ordinary | bsn | health | criminal | confidential-address (zie 00-convenant.yaml)
#   level        case: één waarde voor de hele casus; person: één waarde per persoon in de casus
#                (elke persoon heeft een rol: slachtoffer, pleger, kind of gezinslid, en een regel
#                kan op die rol beslissen)
#   type         string, text, date, datetime, boolean, number, of enum (met \`values\`)
# Het veld met sensitivity bsn en level person is waar de gateway het BSN van een persoon bewaart
# (versleuteld); een regel die het ontsluit heeft een grondslag met \`permits: [bsn]\` nodig.

catalogue:
  persoon:
    description: Wie het betreft
    fields:
      naam: { sensitivity: ordinary, level: person, type: string, description: 'Voor- en achternaam' }
      woonplaats: { sensitivity: ordinary, level: person, type: string, description: 'Gemeente, zonder adres' }
      adres:
        sensitivity: confidential-address
        level: person
        type: string
        description: Verblijfadres; wordt in dit convenant door geen regel gedeeld.

  casus:
    description: Kerngegevens van de casus
    fields:
      aanleiding: { sensitivity: ordinary, level: case, type: text, description: 'Waarom de casus is ingebracht' }
      aanmelddatum: { sensitivity: ordinary, level: case, type: date, description: 'Datum van inbreng' }

  zorg:
    description: Gezondheid (beroepsgeheim)
    fields:
      behandeling: { sensitivity: health, level: person, type: text, description: 'Lopende behandeling' }

  plan:
    description: Het gezamenlijke plan
    fields:
      afspraken: { sensitivity: ordinary, level: case, type: text, description: 'Wie doet wat, en wanneer' }
      regievoerder: { sensitivity: ordinary, level: case, type: string, description: 'Wie de regie heeft' }
`,
    '40-rules.yaml': `${head('Deel 4: de regels: wie wat mag lezen (read), vastleggen (write) of beheren (manage).')}#
# Zo lees je ze:
# - Niets mag, tenzij een regel het toestaat (\`can\`). Een verbod (\`cannot\`) gaat altijd voor.
# - \`partner\` is een id, een lijst ids of '*' (iedereen); of \`partner_kind\` met soorten.
# - \`fields\` zijn veld-ids of patronen: \`plan.*\` is elk veld van het onderdeel plan.
# - Een toestemming geldt alleen voor een partner die nu deelneemt aan de casus onder dat doel,
#   tenzij \`when: { participant: any }\` (of \`emergency: true\`, bij een doorbraak).
# - \`when\` kan ook beperken tot fasen (\`phase: [acute, stabilisatie, herstel, afgesloten]\`),
#   tot personen met een rol (\`person.role: [kind]\`) of tot casussen met een kenmerk
#   (\`case.flag: [afgeschermd-adres]\`).
# - \`legal_basis\` noemt de grondslag; \`reason\` zegt in een zin waarom, voor wie het leest.

rules:
  - id: casusoverleg-lezen
    partner: '*'
    purpose: casusoverleg
    can: read
    fields: [persoon.naam, persoon.woonplaats, casus.*, plan.*]
    when:
      phase: [acute, stabilisatie, herstel]
    legal_basis: [avg-6-1-e]
    reason: Wie deelneemt aan het casusoverleg, ziet de kern van de casus en het plan zolang de casus loopt.

  - id: regie-vastleggen
    partner: regie
    purpose: casusoverleg
    can: write
    fields: [persoon.naam, persoon.woonplaats, casus.*, plan.*]
    legal_basis: [avg-6-1-e]
    reason: De procesregie legt de casus en het plan vast.

  - id: regie-beheren
    partner: regie
    purpose: casusoverleg
    # manage: de fase van de casus wijzigen, partners laten deelnemen, de casus afsluiten.
    can: manage
    legal_basis: [avg-6-1-e]
    reason: De procesregie voert de regie over de casus.

  - id: zorg-binnen-de-zorg
    partner_kind: [zorg]
    purpose: casusoverleg
    can: [read, write]
    fields: [zorg.*]
    # Gezondheidsgegevens: de grondslag moet \`health\` toestaan.
    legal_basis: [avg-9-2-h-uavg-30-3]
    reason: Gezondheidsgegevens blijven bij de hulpverlening, die ze voor de behandeling nodig heeft.

  - id: afgeschermd-adres
    partner: '*'
    purpose: '*'
    cannot: read
    fields: [persoon.adres]
    when:
      case.flag: [afgeschermd-adres]
    reason: Een afgeschermd adres toont de gateway aan niemand, ook niet bij een doorbraak.

  - id: fg-kerngegevens
    partner: fg
    purpose: toezicht
    can: read
    fields: [casus.aanmelddatum, plan.regievoerder]
    when:
      participant: any
    legal_basis: [avg-38-39]
    reason: De FG toetst zonder deel te nemen aan de casus; daarvoor volstaan de kerngegevens.
`,
    '90-tests.yaml': `${head('Deel 9: toetsen: wat in een situatie wel en niet mag.')}#
# Elke toets noemt een partner en doel (\`as\`), een situatie (\`case\`: fase, deelname,
# kenmerken, doorbraak; eventueel \`person: { role: ... }\`) en wat dan moet gelden:
#   read / write             deze velden mogen gelezen / vastgelegd worden
#   deny / deny_write        deze niet
#   manage                   de casus mag (true) of mag niet (false) beheerd worden
# \`npx convenant test <deze map>\` draait ze; schrijf er een bij voor elke afspraak die telt.

tests:
  - name: De hulpverlening ziet in het casusoverleg het plan en de behandeling
    as: { partner: hulpverlening, purpose: casusoverleg }
    case: { phase: stabilisatie }
    expect:
      read: [plan.afspraken, zorg.behandeling]
      deny_write: [plan.afspraken]

  - name: De procesregie ziet geen gezondheidsgegevens, maar voert wel de regie
    as: { partner: regie, purpose: casusoverleg }
    case: { phase: acute }
    expect:
      read: [casus.aanleiding]
      write: [plan.afspraken]
      deny: [zorg.behandeling]
      manage: true

  - name: Na afsluiting ziet niemand in het casusoverleg nog iets
    as: { partner: hulpverlening, purpose: casusoverleg }
    case: { phase: afgesloten }
    expect:
      deny: [plan.afspraken, persoon.naam]

  - name: Een afgeschermd adres ziet niemand
    as: { partner: regie, purpose: casusoverleg }
    case: { phase: stabilisatie, flags: [afgeschermd-adres] }
    expect:
      deny: [persoon.adres]

  - name: De FG ziet de kerngegevens zonder deel te nemen, niet de inhoud
    as: { partner: fg, purpose: toezicht }
    case: { phase: herstel, participant: false }
    expect:
      read: [casus.aanmelddatum]
      deny: [plan.afspraken, persoon.naam]
`,
  };
}
