/**
 * The rendered convenant's document model (blocks) and its two outputs: Markdown, and
 * self-contained HTML with a print stylesheet (A4, page numbers, one signature block per party
 * kept on one page), which is also what `convenant render --pdf` prints.
 */
import { escapeHtml } from './matrix.js';

export interface SignatureParty {
  party: string;
  /** Empty name and function: a blank block to fill in by hand. */
  signatories: { name: string; function: string; place?: string; date?: string }[];
}

export type Block =
  | { kind: 'h'; level: 1 | 2 | 3 | 4; text: string }
  | { kind: 'p'; text: string }
  | { kind: 'ul'; items: string[] }
  | { kind: 'table'; head: string[]; rows: string[][] }
  | { kind: 'sign'; parties: SignatureParty[] };

/** What a signatory fills in by hand. */
const BLANK = '……………………';

const mdEscape = (text: string) => text.replace(/([\\`*_[\]<>|])/g, '\\$1');

export function renderMarkdown(blocks: readonly Block[]): string {
  const out: string[] = [];
  const row = (cells: readonly string[]) =>
    `| ${cells.map((x) => mdEscape(x).replace(/\n/g, ' ')).join(' | ')} |`;
  for (const b of blocks) {
    if (b.kind === 'h') out.push(`${'#'.repeat(b.level)} ${mdEscape(b.text)}`, '');
    else if (b.kind === 'p') out.push(mdEscape(b.text), '');
    else if (b.kind === 'ul') out.push(...b.items.map((i) => `- ${mdEscape(i)}`), '');
    else if (b.kind === 'table') out.push(row(b.head), row(b.head.map(() => '---')), ...b.rows.map(row), '');
    else {
      const head = ['Partner', 'Naam en functie', 'Plaats en datum', 'Handtekening'];
      out.push(row(head), row(head.map(() => '---')));
      for (const party of b.parties) {
        for (const s of party.signatories) {
          const who = s.name === '' ? BLANK : `${s.name}, ${s.function}`;
          out.push(row([party.party, who, `${s.place ?? BLANK}, ${s.date ?? BLANK}`, BLANK]));
        }
      }
      out.push('');
    }
  }
  return out.join('\n');
}

function signHtml(b: Extract<Block, { kind: 'sign' }>): string {
  const e = escapeHtml;
  const blank = '<span class="blank"></span>';
  return (
    '<div class="signatures">\n' +
    b.parties
      .map(
        (party) =>
          `<div class="party">\n<p class="party-name">${e(party.party)}</p>\n` +
          party.signatories
            .map(
              (s) =>
                '<div class="signatory">' +
                `<p>Naam: ${s.name === '' ? blank : e(s.name)}</p>` +
                `<p>Functie: ${s.function === '' ? blank : e(s.function)}</p>` +
                `<p>Plaats: ${s.place === undefined ? blank : e(s.place)} Datum: ${s.date === undefined ? blank : e(s.date)}</p>` +
                '<p class="signature-line">Handtekening</p>' +
                '</div>',
            )
            .join('\n') +
          '\n</div>',
      )
      .join('\n') +
    '\n</div>'
  );
}

export function renderHtml(blocks: readonly Block[], title: string): string {
  const e = escapeHtml;
  const body = blocks
    .map((b) => {
      if (b.kind === 'h') return `<h${b.level}>${e(b.text)}</h${b.level}>`;
      if (b.kind === 'p') return `<p>${e(b.text)}</p>`;
      if (b.kind === 'ul') return `<ul>\n${b.items.map((i) => `<li>${e(i)}</li>`).join('\n')}\n</ul>`;
      if (b.kind === 'sign') return signHtml(b);
      return (
        `<table>\n<thead><tr>${b.head.map((x) => `<th scope="col">${e(x)}</th>`).join('')}</tr></thead>\n<tbody>\n` +
        b.rows.map((r) => `<tr>${r.map((x) => `<td>${e(x)}</td>`).join('')}</tr>`).join('\n') +
        '\n</tbody>\n</table>'
      );
    })
    .join('\n');
  return `<!doctype html>
<html lang="nl">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(title)}</title>
<style>
body { font-family: Georgia, 'Times New Roman', serif; max-width: 48rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.45; color: #111; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.3rem; margin-top: 2rem; border-bottom: 1px solid #999; }
h3 { font-size: 1.1rem; } h4 { font-size: 1rem; font-style: italic; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #aaa; padding: 0.25rem 0.4rem; text-align: left; vertical-align: top; }
th { background: #eee; }
.signatures { display: grid; grid-template-columns: 1fr 1fr; gap: 1.5rem 2rem; margin-top: 1rem; }
.party { break-inside: avoid; }
.party-name { font-weight: bold; margin-bottom: 0.3rem; }
.signatory p { margin: 0.2rem 0; }
.blank { display: inline-block; min-width: 9rem; border-bottom: 1px dotted #555; }
.signature-line { margin-top: 2.5rem !important; border-top: 1px solid #111; font-size: 0.85rem; color: #444; }
@page { size: A4; margin: 2cm 2cm 2.2cm; }
@media print {
  body { margin: 0; max-width: none; font-size: 10.5pt; }
  h2:not(:first-of-type) { break-before: page; }
  h2, h3, h4 { break-after: avoid; } tr, li { break-inside: avoid; }
  th { background: none; }
}
</style>
</head>
<body>
${body}
</body>
</html>
`;
}
