/**
 * A checkpoint as the text a witness reads, in the shape of a C2SP tlog-checkpoint body: origin,
 * tree size, base64 Merkle root (RFC 9162), then extension lines with what this log adds (the hash
 * chain's head at that size, and when it was signed). The gateway signs exactly these bytes as the
 * payload of a compact JWS (ES256, its checkpoint key): jose, not the signed-note format's Ed25519
 * lines, because the gateway's published key set (GET /v1/audit/keys) is what verifiers already pin.
 */

/** The JWS `typ` of a note checkpoint; earlier checkpoints signed a JSON payload without a tree. */
export const NOTE_TYP = 'convenant-checkpoint+note';

/** The origin line when the gateway is given none: names the log, not a host. */
export const DEFAULT_ORIGIN = 'convenant access log';

export interface CheckpointNote {
  origin: string;
  /** Tree size = chain position: leaves are positions 1..size. */
  size: string;
  /** Merkle root, hex. */
  rootHash: string;
  /** The hash chain's head after `size` entries, hex. */
  chainHead: string;
  createdAt: string;
}

export function noteText(n: CheckpointNote): string {
  if (/\n/.test(n.origin) || n.origin === '')
    throw new TypeError('a checkpoint origin is one non-empty line');
  return (
    `${n.origin}\n${n.size}\n${Buffer.from(n.rootHash, 'hex').toString('base64')}\n` +
    `chain-head ${n.chainHead}\ntime ${n.createdAt}\n`
  );
}

const NOTE =
  /^([^\n]+)\n(0|[1-9]\d{0,18})\n([A-Za-z0-9+/]{43}=)\nchain-head ([0-9a-f]{64})\ntime ([^\n]+)\n$/;

/** The note's fields, or null when the text is not a note this gateway writes. */
export function parseNote(text: string): CheckpointNote | null {
  const m = NOTE.exec(text);
  if (!m) return null;
  return {
    origin: m[1]!,
    size: m[2]!,
    rootHash: Buffer.from(m[3]!, 'base64').toString('hex'),
    chainHead: m[4]!,
    createdAt: m[5]!,
  };
}
