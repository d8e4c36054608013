import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AppConfig } from '../config/config.js';

/**
 * A running gateway leaves `gateway.json` in its local data folder: where partners reach it and
 * which convenant it enforces. `convenant token` reads it, so a token made for the demo is issued
 * for the gateway that is actually running (its PUBLIC_URL or PORT) without setting them twice.
 * Nothing secret is in it; it is removed on a clean stop and ignored once its process is gone.
 */
export const GATEWAY_FILE = 'gateway.json';

export interface GatewayFile {
  publicUrl: string;
  policyDir: string;
  pid: number;
  startedAt: string;
}

export async function writeGatewayFile(
  config: Pick<AppConfig, 'dataDir' | 'publicUrl' | 'policyDir'>,
): Promise<void> {
  const content: GatewayFile = {
    publicUrl: config.publicUrl,
    policyDir: config.policyDir,
    pid: process.pid,
    startedAt: new Date().toISOString(),
  };
  await mkdir(config.dataDir, { recursive: true });
  await writeFile(path.join(config.dataDir, GATEWAY_FILE), `${JSON.stringify(content, null, 2)}\n`);
}

/** Removes the file if this process wrote it (another instance on the same folder may have since). */
export async function removeGatewayFile(config: Pick<AppConfig, 'dataDir'>): Promise<void> {
  const found = await readGatewayFile(config.dataDir);
  if (found?.pid === process.pid) await rm(path.join(config.dataDir, GATEWAY_FILE), { force: true });
}

export type GatewayLookup =
  { found: GatewayFile } | { missing: string } | { stale: GatewayFile; file: string };

/** The running gateway named in the data folder, if its process still lives. */
export async function findRunningGateway(dataDir: string): Promise<GatewayLookup> {
  const file = path.join(dataDir, GATEWAY_FILE);
  const found = await readGatewayFile(dataDir);
  if (!found) return { missing: file };
  return processAlive(found.pid) ? { found } : { stale: found, file };
}

async function readGatewayFile(dataDir: string): Promise<GatewayFile | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(dataDir, GATEWAY_FILE), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return isGatewayFile(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function isGatewayFile(value: unknown): value is GatewayFile {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.publicUrl === 'string' &&
    typeof v.policyDir === 'string' &&
    typeof v.pid === 'number' &&
    typeof v.startedAt === 'string'
  );
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
