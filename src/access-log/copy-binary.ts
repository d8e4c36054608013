/**
 * A reader for PostgreSQL's binary COPY format (COPY … TO STDOUT (FORMAT binary), documented under
 * "Binary Format" on the COPY page): an 11-byte signature, a flags word and a header extension,
 * then per tuple a 16-bit field count followed by each field as a 32-bit length (-1 for NULL) and
 * its bytes, and a count of -1 at the end.
 *
 * The verifier reads the chain this way because it hands over a field as bytes where the row
 * protocol hands over a JS string: a million canonical texts as strings were most of what the
 * garbage collector had to do. Fields come out as views into the received chunk, not copies.
 */
const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

export class CopyBinaryError extends Error {}

/**
 * One tuple, handed to a callback as the bytes it lies in and each field's start and length
 * (-1 for SQL NULL) in two arrays that are reused for the next tuple: no object per field, which
 * at twenty fields a row and a million rows was most of the reader's cost. Read it before returning.
 */
export interface Tuple {
  bytes: Buffer;
  count: number;
  starts: Int32Array;
  lengths: Int32Array;
}

const MAX_FIELDS = 1600; // PostgreSQL's own limit on columns in a row

export class CopyBinaryParser {
  private rest: Buffer = Buffer.alloc(0);
  private headerRead = false;
  private ended = false;
  private readonly tuple: Tuple = {
    bytes: Buffer.alloc(0),
    count: 0,
    starts: new Int32Array(MAX_FIELDS),
    lengths: new Int32Array(MAX_FIELDS),
  };

  /** Feeds the next chunk and hands over each tuple it completes; a tuple split over chunks waits for the rest. */
  push(chunk: Buffer, onTuple: (tuple: Tuple) => void): void {
    const buffer = this.rest.length === 0 ? chunk : Buffer.concat([this.rest, chunk]);
    let at = 0;
    if (!this.headerRead) {
      if (buffer.length < SIGNATURE.length + 8) {
        this.rest = buffer;
        return;
      }
      if (!buffer.subarray(0, SIGNATURE.length).equals(SIGNATURE)) {
        throw new CopyBinaryError('not PostgreSQL binary COPY output');
      }
      const extension = buffer.readUInt32BE(SIGNATURE.length + 4);
      at = SIGNATURE.length + 8 + extension;
      if (buffer.length < at) {
        this.rest = buffer;
        return;
      }
      this.headerRead = true;
    }
    const tuple = this.tuple;
    const { starts, lengths } = tuple;
    tuple.bytes = buffer;
    while (!this.ended && buffer.length - at >= 2) {
      const count = buffer.readInt16BE(at);
      if (count === -1) {
        this.ended = true;
        at += 2;
        break;
      }
      if (count < 0 || count > MAX_FIELDS) throw new CopyBinaryError(`a tuple of ${count} fields`);
      let cursor = at + 2;
      let complete = true;
      for (let i = 0; i < count; i++) {
        if (buffer.length - cursor < 4) {
          complete = false;
          break;
        }
        const length = buffer.readInt32BE(cursor);
        cursor += 4;
        starts[i] = cursor;
        lengths[i] = length;
        if (length === -1) continue;
        if (length < -1) throw new CopyBinaryError(`a field of length ${length}`);
        if (buffer.length - cursor < length) {
          complete = false;
          break;
        }
        cursor += length;
      }
      if (!complete) break;
      tuple.count = count;
      onTuple(tuple);
      at = cursor;
    }
    // What is left is the start of a tuple, copied so the chunk it came in can be let go.
    this.rest = at === buffer.length ? Buffer.alloc(0) : Buffer.from(buffer.subarray(at));
  }

  /** Throws unless the stream ended exactly at the trailer: a cut-off COPY must not pass for a short one. */
  end(): void {
    if (!this.ended || this.rest.length > 0) throw new CopyBinaryError('binary COPY output ended early');
  }
}

/** A bigint column as the decimal text the rest of the log uses for seq and position. */
export function int8Text(tuple: Tuple, i: number): string {
  if (tuple.lengths[i] !== 8) throw new CopyBinaryError(`an int8 field has 8 bytes, not ${tuple.lengths[i]}`);
  const at = tuple.starts[i]!;
  const high = tuple.bytes.readInt32BE(at);
  // Below 2^53 a double holds it exactly, and String() of a number is cheaper than of a BigInt.
  if (high >= 0 && high < 0x200000) return String(high * 0x1_0000_0000 + tuple.bytes.readUInt32BE(at + 4));
  return tuple.bytes.readBigInt64BE(at).toString();
}

/** A bytea field as lowercase hex. */
export function byteaHex(tuple: Tuple, i: number): string {
  const length = tuple.lengths[i]!;
  if (length === -1) throw new CopyBinaryError(`field ${i} is NULL`);
  return tuple.bytes.toString('hex', tuple.starts[i], tuple.starts[i]! + length);
}
