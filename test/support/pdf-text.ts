import { inflateSync } from 'node:zlib';

/**
 * The text and page count of a PDF as Chromium prints it (Type0 fonts with ToUnicode maps, text
 * shown with `<hex> Tj`), enough to check that a printed document holds the words it should. Not
 * a general PDF reader: it ignores object streams, encryption and other font kinds, and a PDF
 * it cannot read yields no text, so a test on it fails rather than passes.
 */
export interface PdfText {
  pages: number;
  text: string;
}

function objects(pdf: Buffer): Map<number, Buffer> {
  const found = new Map<number, Buffer>();
  const latin = pdf.toString('latin1');
  const re = /(\d+) 0 obj([\s\S]*?)endobj/g;
  for (let m = re.exec(latin); m; m = re.exec(latin)) found.set(Number(m[1]), Buffer.from(m[2]!, 'latin1'));
  return found;
}

function streamOf(body: Buffer): Buffer | undefined {
  const latin = body.toString('latin1');
  const start = /stream\r?\n/.exec(latin);
  const end = latin.lastIndexOf('endstream');
  if (!start || end < 0) return undefined;
  const raw = body.subarray(start.index + start[0].length, end);
  try {
    return inflateSync(raw);
  } catch {
    return raw;
  }
}

/** A ToUnicode CMap: glyph code → text, from its bfchar and bfrange sections. */
function toUnicode(cmap: string): Map<number, string> {
  const map = new Map<number, string>();
  const hex = (h: string) => parseInt(h, 16);
  const text = (h: string) => String.fromCharCode(...(h.match(/.{4}/g) ?? []).map(hex));
  for (const section of cmap.matchAll(/beginbfchar([\s\S]*?)endbfchar/g))
    for (const [, code, to] of section[1]!.matchAll(/<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>/g))
      map.set(hex(code!), text(to!));
  for (const section of cmap.matchAll(/beginbfrange([\s\S]*?)endbfrange/g))
    for (const [, lo, hi, to] of section[1]!.matchAll(
      /<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>/g,
    ))
      for (let code = hex(lo!); code <= hex(hi!); code++)
        map.set(code, String.fromCharCode(hex(to!) + code - hex(lo!)));
  return map;
}

export function pdfText(pdf: Buffer): PdfText {
  const objs = objects(pdf);
  const latin = (n: number) => objs.get(n)?.toString('latin1') ?? '';
  // Font resource name → its ToUnicode map (Chromium names fonts uniquely within a document).
  const fonts = new Map<string, Map<number, string>>();
  for (const body of objs.values()) {
    for (const dict of body.toString('latin1').matchAll(/\/Font\s*<<([\s\S]*?)>>/g)) {
      for (const [, name, ref] of dict[1]!.matchAll(/\/(\w+)\s+(\d+) 0 R/g)) {
        const unicodeRef = /\/ToUnicode\s+(\d+) 0 R/.exec(latin(Number(ref)))?.[1];
        const cmap = unicodeRef ? streamOf(objs.get(Number(unicodeRef))!) : undefined;
        if (cmap) fonts.set(name!, toUnicode(cmap.toString('latin1')));
      }
    }
  }
  const pages = [...objs.values()].filter((b) => /\/Type\s*\/Page[^s]/.test(b.toString('latin1'))).length;
  let text = '';
  for (const body of objs.values()) {
    const content = streamOf(body)?.toString('latin1');
    if (!content?.includes(' Tf')) continue;
    let font: Map<number, string> | undefined;
    for (const [, name, hex] of content.matchAll(/\/(\w+) [\d.]+ Tf|<([0-9A-Fa-f]+)>\s*Tj/g)) {
      if (name !== undefined) font = fonts.get(name);
      else if (font) for (const code of hex!.match(/.{4}/g) ?? []) text += font.get(parseInt(code, 16)) ?? '';
    }
    text += '\n';
  }
  return { pages, text };
}
