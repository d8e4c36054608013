import type { CanonicalFormat } from './chain.js';
import { ENTRY_COLUMNS as DESCRIBED, type EntryColumnKind } from './entry-description.js';
import { CopyBinaryError, type Tuple } from './copy-binary.js';

/**
 * canonical(entry) (chain.ts) written as UTF-8 bytes straight from an entry's fields as binary
 * COPY hands them over: text as its UTF-8 bytes, text[] in PostgreSQL's binary array format, a
 * boolean as one byte. The same bytes as Buffer.from(JSON.stringify([...])), without a JS string
 * per value: JSON.stringify escapes only `"`, `\` and characters below U+0020 (as \b \t \n \f \r
 * or lowercase \u00xx), all of them single bytes in UTF-8, so every other byte is copied as it is.
 * canonical-bytes.spec.ts holds it to canonical() over random entries, awkward characters included.
 *
 * Why not let PostgreSQL render the text (to_json per column)? It was the largest cost of
 * verifying from the database, 4 to 6 µs per entry, and it keeps the database out of deciding
 * what an entry's canonical form is.
 */
const HEX = Buffer.from('0123456789abcdef', 'latin1');
const EPOCH_2000_MS = Date.UTC(2000, 0, 1);
const FROM_1970 = (Date.UTC(1970, 0, 1) - EPOCH_2000_MS) * 1000;
const UNTIL_2200 = (Date.UTC(2200, 0, 1) - EPOCH_2000_MS) * 1000;

export class CanonicalWriter {
  private out: Buffer;
  private at = 0;

  constructor(initial = 1 << 20) {
    this.out = Buffer.allocUnsafe(initial);
  }

  /** Where the next entry starts; its bytes are `view(start)` once written. */
  get offset(): number {
    return this.at;
  }

  /** The bytes written since `start`. Bytes once written are never overwritten, so a view stays valid. */
  view(start: number): Buffer {
    return this.out.subarray(start, this.at);
  }

  private room(bytes: number): void {
    if (this.at + bytes <= this.out.length) return;
    // The views handed out so far point into the old buffer and keep it alive; the new one continues.
    const next = Buffer.allocUnsafe(Math.max(2 * this.out.length, bytes + 1024));
    this.out.copy(next, 0, 0, this.at);
    this.out = next;
  }

  byte(c: number): void {
    this.room(1);
    this.out[this.at++] = c;
  }

  /** Bytes [start, end) of `source`, copied as they are. */
  bytes(source: Buffer, start: number, end: number): void {
    this.room(end - start);
    if (end - start > 64) {
      this.at += source.copy(this.out, this.at, start, end);
      return;
    }
    // Most values are a few bytes: a loop is cheaper than Buffer.copy's way into native code.
    const out = this.out;
    let at = this.at;
    for (let i = start; i < end; i++) out[at++] = source[i]!;
    this.at = at;
  }

  /** ASCII text written as it is (a number, a timestamp already in canonical form, `null`). */
  ascii(text: string): void {
    this.room(text.length);
    this.at += this.out.write(text, this.at, 'latin1');
  }

  /** A JSON string from the UTF-8 bytes at [start, start + length), or null for SQL NULL (length -1). */
  string(bytes: Buffer, start: number, length: number): void {
    if (length === -1) return this.ascii('null');
    // Worst case every byte becomes \u00xx (6 bytes), plus the quotes.
    this.room(6 * length + 2);
    const out = this.out;
    let at = this.at;
    out[at++] = 0x22;
    for (let i = start, end = start + length; i < end; i++) {
      const c = bytes[i]!;
      if (c >= 0x20 && c !== 0x22 && c !== 0x5c) {
        out[at++] = c;
        continue;
      }
      out[at++] = 0x5c;
      switch (c) {
        case 0x22:
        case 0x5c:
          out[at++] = c;
          break;
        case 0x08:
          out[at++] = 0x62; // b
          break;
        case 0x09:
          out[at++] = 0x74; // t
          break;
        case 0x0a:
          out[at++] = 0x6e; // n
          break;
        case 0x0c:
          out[at++] = 0x66; // f
          break;
        case 0x0d:
          out[at++] = 0x72; // r
          break;
        default:
          at += out.write(`u00${c.toString(16).padStart(2, '0')}`, at, 'latin1');
      }
    }
    out[at++] = 0x22;
    this.at = at;
  }

  /** A text[] in binary array format as a JSON array of strings (nested for more dimensions), or null. */
  textArray(bytes: Buffer, start: number, length: number): void {
    if (length === -1) return this.ascii('null');
    if (length < 12) throw new CopyBinaryError('a binary array has at least 12 bytes');
    const end = start + length;
    const dimensions = bytes.readInt32BE(start);
    if (dimensions === 0) return this.ascii('[]');
    if (dimensions < 0 || dimensions > 6) throw new CopyBinaryError(`an array of ${dimensions} dimensions`);
    const sizes: number[] = [];
    for (let d = 0; d < dimensions; d++) sizes.push(bytes.readInt32BE(start + 12 + 8 * d));
    let at = start + 12 + 8 * dimensions;
    const element = () => {
      if (end - at < 4) throw new CopyBinaryError('a binary array ends inside an element');
      const size = bytes.readInt32BE(at);
      at += 4;
      if (size === -1) return this.ascii('null');
      if (size < 0 || end - at < size) throw new CopyBinaryError('a binary array ends inside an element');
      this.string(bytes, at, size);
      at += size;
    };
    const dimension = (d: number) => {
      this.byte(0x5b);
      for (let i = 0; i < sizes[d]!; i++) {
        if (i > 0) this.byte(0x2c);
        if (d === dimensions - 1) element();
        else dimension(d + 1);
      }
      this.byte(0x5d);
    };
    dimension(0);
    if (at !== end) throw new CopyBinaryError('a binary array has bytes after its elements');
  }

  /**
   * A timestamptz (microseconds since 2000-01-01 UTC) as to_char renders it in ENTRY_SELECT,
   * `"YYYY-MM-DDTHH:MI:SS.USZ"`. False, writing nothing, outside 1970 to 2200, where a double
   * would no longer hold the microseconds exactly (the caller then reads the entry another way).
   */
  timestamp(bytes: Buffer, start: number, length: number): boolean {
    if (length === -1) {
      this.ascii('null');
      return true;
    }
    if (length !== 8) throw new CopyBinaryError(`a timestamp has 8 bytes, not ${length}`);
    const micros = bytes.readInt32BE(start) * 0x1_0000_0000 + bytes.readUInt32BE(start + 4);
    if (!(micros >= FROM_1970 && micros < UNTIL_2200)) return false;
    const minute = Math.floor(micros / 60_000_000);
    if (minute !== this.minute) {
      // Entries come close together in time: the date and minute are worked out once per minute.
      this.minute = minute;
      this.minutePrefix = new Date(EPOCH_2000_MS + minute * 60_000).toISOString().slice(0, 17);
    }
    const rest = micros - minute * 60_000_000;
    const seconds = Math.floor(rest / 1_000_000);
    this.byte(0x22);
    this.ascii(this.minutePrefix);
    this.digits(seconds, 2);
    this.byte(0x2e);
    this.digits(rest - seconds * 1_000_000, 6);
    this.byte(0x5a);
    this.byte(0x22);
    return true;
  }

  private minute = Number.NaN;
  private minutePrefix = '';

  /** A non-negative integer below 10^width, zero-padded to width digits. */
  private digits(value: number, width: number): void {
    this.room(width);
    for (let i = width - 1; i >= 0; i--) {
      this.out[this.at + i] = 0x30 + (value % 10);
      value = Math.floor(value / 10);
    }
    this.at += width;
  }

  /** A uuid (16 bytes) as its lowercase 8-4-4-4-12 text, or null. */
  uuid(bytes: Buffer, start: number, length: number): void {
    if (length === -1) return this.ascii('null');
    if (length !== 16) throw new CopyBinaryError(`a uuid has 16 bytes, not ${length}`);
    this.byte(0x22);
    for (let i = 0; i < 16; i++) {
      if (i === 4 || i === 6 || i === 8 || i === 10) this.byte(0x2d);
      const b = bytes[start + i]!;
      this.byte(HEX[b >> 4]!);
      this.byte(HEX[b & 15]!);
    }
    this.byte(0x22);
  }

  /** A boolean (one byte, 1 for true) as true or false, or null. */
  boolean(bytes: Buffer, start: number, length: number): void {
    if (length === -1) return this.ascii('null');
    this.ascii(bytes[start] === 1 ? 'true' : 'false');
  }
}

type Kind = Exclude<EntryColumnKind, 'int8'>;

/**
 * An entry's columns after seq, in canonical()'s order (entry-description.ts), and how each is
 * written: as stored, so PostgreSQL only copies them out (rendering occurred_at and case_id as
 * text there cost as much as all the rest).
 */
const KINDS: readonly Kind[] = DESCRIBED.slice(1).map((c) => {
  if (c.kind === 'int8') throw new Error('only seq is an int8 column of an entry');
  return c.kind;
});

/** Where a COPY_ENTRY_SELECT tuple holds the request id: its last column. */
const REQUEST_ID_AT = DESCRIBED.length - 1;

/** The canonical format of a COPY_ENTRY_SELECT tuple: 2 when it has a request id (chain.ts). */
export const tupleFormat = (tuple: Tuple): CanonicalFormat => (tuple.lengths[REQUEST_ID_AT] === -1 ? 1 : 2);

/** The select list of a binary COPY that writeCanonical reads. */
export { COPY_ENTRY_SELECT } from './entry-description.js';

/**
 * canonical(entry) as bytes, `["<seq>",<columns>…]`, from a tuple of COPY_ENTRY_SELECT whose
 * seq is `seq`. Null when this writer cannot render it exactly (a timestamp outside what it
 * handles): the caller reads that entry as text instead. What was written for it is left unused.
 */
export function writeCanonical(writer: CanonicalWriter, seq: string, tuple: Tuple): Buffer | null {
  const { bytes, starts, lengths } = tuple;
  if (tuple.count !== 1 + KINDS.length)
    throw new CopyBinaryError('a log row has other columns than expected');
  const start = writer.offset;
  writer.byte(0x5b);
  writer.byte(0x22);
  writer.ascii(seq);
  writer.byte(0x22);
  for (let i = 0; i < KINDS.length; i++) {
    const kind = KINDS[i];
    const at = starts[1 + i]!;
    const length = lengths[1 + i]!;
    if (kind === 'optional-uuid' && length === -1) continue;
    writer.byte(0x2c);
    if (kind === 'string') writer.string(bytes, at, length);
    else if (kind === 'array') writer.textArray(bytes, at, length);
    else if (kind === 'timestamp') {
      if (!writer.timestamp(bytes, at, length)) return null;
    } else if (kind === 'uuid' || kind === 'optional-uuid') writer.uuid(bytes, at, length);
    else writer.boolean(bytes, at, length);
  }
  writer.byte(0x5d);
  return writer.view(start);
}
