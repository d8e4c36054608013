import { mkdtemp, readFile, rm, stat, writeFile, chmod } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BsnCipher, BsnDecryptionError, SECRETS_FILE, isValidBsn, loadBsnKeys } from './bsn.js';

const keys = () => ({ hmacKey: Buffer.alloc(32, 1), encryptionKey: Buffer.alloc(32, 2) });

describe('isValidBsn (11-test)', () => {
  it.each(['123456782', '111222333', '999999990'])('accepts %s', (bsn) => {
    expect(isValidBsn(bsn)).toBe(true);
  });

  it.each([
    ['one digit off', '123456781'],
    ['eight digits', '12345678'],
    ['ten digits', '1234567820'],
    ['letters', '12345678a'],
    ['spaces', '123 456 782'],
    ['all zeros (passes the arithmetic, is no BSN)', '000000000'],
    ['empty', ''],
  ])('refuses %s', (_label, bsn) => {
    expect(isValidBsn(bsn)).toBe(false);
  });
});

describe('BsnCipher', () => {
  const sut = new BsnCipher(keys());

  it('hashes with the key: stable for one key, different under another, never the BSN itself', () => {
    const other = new BsnCipher({ ...keys(), hmacKey: Buffer.alloc(32, 9) });
    expect(sut.hash('123456782').equals(sut.hash('123456782'))).toBe(true);
    expect(sut.hash('123456782').equals(other.hash('123456782'))).toBe(false);
    expect(sut.hash('123456782')).toHaveLength(32);
    expect(sut.hash('123456782').toString('latin1')).not.toContain('123456782');
  });

  it('encrypts with a fresh IV each time and decrypts only for the same person', () => {
    const a = sut.encrypt('123456782', 'person-a');
    const b = sut.encrypt('123456782', 'person-a');
    expect(a.equals(b)).toBe(false);
    expect(a.toString('latin1')).not.toContain('123456782');
    expect(sut.decrypt(a, 'person-a')).toBe('123456782');
    expect(() => sut.decrypt(a, 'person-b')).toThrow(BsnDecryptionError);
  });

  it('refuses a tampered ciphertext and one sealed with another key', () => {
    const sealed = sut.encrypt('123456782', 'p');
    const tampered = Buffer.from(sealed);
    tampered[tampered.length - 1]! ^= 1;
    expect(() => sut.decrypt(tampered, 'p')).toThrow(BsnDecryptionError);
    const other = new BsnCipher({ ...keys(), encryptionKey: Buffer.alloc(32, 7) });
    expect(() => other.decrypt(sealed, 'p')).toThrow(BsnDecryptionError);
    expect(() => sut.decrypt(Buffer.from([1, 2, 3]), 'p')).toThrow(BsnDecryptionError);
  });

  it('refuses keys that are not 32 bytes', () => {
    expect(() => new BsnCipher({ hmacKey: Buffer.alloc(16), encryptionKey: Buffer.alloc(32) })).toThrow(
      /32 bytes/,
    );
  });
});

describe('loadBsnKeys', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'convenant-bsn-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('uses configured keys and writes nothing', async () => {
    const k = keys();
    const loaded = await loadBsnKeys({
      env: 'production',
      dataDir,
      bsnHmacKey: k.hmacKey,
      bsnEncryptionKey: k.encryptionKey,
    });
    expect(loaded).toEqual({ hmacKey: k.hmacKey, encryptionKey: k.encryptionKey });
    await expect(stat(path.join(dataDir, SECRETS_FILE))).rejects.toThrow(/ENOENT/);
  });

  it('refuses to generate keys in production', async () => {
    await expect(loadBsnKeys({ env: 'production', dataDir })).rejects.toThrow(/must be set in production/);
  });

  it('generates keys once into secrets.json (0600) and reuses them, also when started in parallel', async () => {
    const [first, second] = await Promise.all([
      loadBsnKeys({ env: 'development', dataDir }),
      loadBsnKeys({ env: 'development', dataDir }),
    ]);
    expect(first.hmacKey).toHaveLength(32);
    expect(first.encryptionKey.equals(second.encryptionKey)).toBe(true);
    const file = path.join(dataDir, SECRETS_FILE);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const again = await loadBsnKeys({ env: 'test', dataDir });
    expect(again.hmacKey.equals(first.hmacKey)).toBe(true);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({
      bsnHmacKey: first.hmacKey.toString('base64'),
      bsnEncryptionKey: first.encryptionKey.toString('base64'),
    });
  });

  it('refuses a secrets file others can read', async () => {
    const file = path.join(dataDir, SECRETS_FILE);
    await writeFile(file, JSON.stringify({ bsnHmacKey: 'a', bsnEncryptionKey: 'b' }));
    await chmod(file, 0o644);
    await expect(loadBsnKeys({ env: 'development', dataDir })).rejects.toThrow(/chmod 600/);
  });
});
