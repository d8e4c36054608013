import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import { watch, type FSWatcher } from 'node:fs';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import type { CompiledConvenant } from '../policy/compile.js';
import {
  type EnforceablePolicy,
  loadEnforceablePolicy,
  PolicyInvalidError,
  takeHandedOverPolicy,
} from './enforceable.js';
import { PolicyVersionRepository, VersionConflictError } from './policy-version.repository.js';

// Loading without Nest or a database lives in enforceable.ts, so `convenant token` can use it
// without loading either; these names stay importable from here.
export {
  type EnforceablePolicy,
  loadEnforceable,
  loadEnforceablePolicy,
  PolicyInvalidError,
  type PolicyProblem,
} from './enforceable.js';

export interface ReloadOutcome {
  /** `reloaded`: a new version is in force; `unchanged`: the folder holds the version in force. */
  status: 'reloaded' | 'unchanged';
  version: string;
  previousVersion: string;
}

export type ReloadTrigger = 'start' | 'watch' | 'endpoint';

/** How long the folder must be quiet before a change is reloaded: editors and `cp -r` write in bursts. */
export const WATCH_DEBOUNCE_MS = 250;

/**
 * The convenant the gateway enforces. Start-up fails closed: a convenant with validation errors
 * or failing inline tests is refused and the gateway does not serve. A reload (folder watcher or
 * `POST /v1/convenant/reload`) validates and self-tests the new text first and swaps it in with
 * one assignment; a refused one is logged and the old version keeps serving.
 *
 * Each request is pinned to ONE compiled convenant (see `pin`, called from a Fastify hook when the
 * request arrives): every `current()` during that request, in guards, services and log writers,
 * returns the same version, so a response and its access log rows are decided by exactly one
 * version even when a swap happens while it is in flight.
 *
 * Every version is recorded in `policy_version` with its source text, so any past decision can be
 * traced to its text.
 */
@Injectable()
export class PolicyRegistry implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Convenant');
  private compiled?: CompiledConvenant;
  private readonly pinned = new AsyncLocalStorage<CompiledConvenant>();
  /** Reloads run one at a time, in order: two overlapping ones must not both swap. */
  private queue: Promise<unknown> = Promise.resolve();
  private watcher?: FSWatcher;
  private debounce?: NodeJS.Timeout;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly versions: PolicyVersionRepository,
  ) {}

  async onModuleInit(): Promise<void> {
    const policy =
      takeHandedOverPolicy(this.config.policyDir) ?? loadEnforceablePolicy(this.config.policyDir);
    await this.record(policy);
    this.compiled = policy.compiled;
    this.logger.log(`Enforcing convenant ${policy.compiled.convenant.id} version ${policy.compiled.version}`);
    if (this.config.policyWatch) this.startWatching();
  }

  onModuleDestroy(): void {
    clearTimeout(this.debounce);
    this.watcher?.close();
  }

  /** The compiled convenant of the request in progress, or the one in force outside a request. */
  current(): CompiledConvenant {
    const pinned = this.pinned.getStore();
    if (pinned) return pinned;
    if (!this.compiled) throw new Error('The convenant is not loaded yet.');
    return this.compiled;
  }

  /** The version in force now, whatever the calling request is pinned to (for reports about the registry itself). */
  inForce(): CompiledConvenant {
    if (!this.compiled) throw new Error('The convenant is not loaded yet.');
    return this.compiled;
  }

  /** Runs `fn` (a request) with the convenant now in force pinned for everything it calls. */
  pin<T>(fn: () => T): T {
    return this.pinned.run(this.inForce(), fn);
  }

  /**
   * Loads, validates, self-tests and records the folder's convenant, then swaps it in. Throws
   * PolicyInvalidError (the version in force stays) when it cannot be enforced.
   */
  reload(trigger: ReloadTrigger): Promise<ReloadOutcome> {
    const run = this.queue.then(() => this.reloadNow(trigger));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async reloadNow(trigger: ReloadTrigger): Promise<ReloadOutcome> {
    // The live version, not the caller's pinned one: an earlier reload may have swapped since.
    const previous = this.inForce();
    let policy: EnforceablePolicy;
    try {
      policy = loadEnforceablePolicy(this.config.policyDir);
      if (policy.compiled.hash === previous.hash) {
        return { status: 'unchanged', version: previous.version, previousVersion: previous.version };
      }
      await this.record(policy);
    } catch (error) {
      if (error instanceof PolicyInvalidError) {
        this.logger.warn(
          { trigger, versionInForce: previous.version, problems: error.problems },
          `Refused to reload the convenant; version ${previous.version} stays in force`,
        );
      }
      throw error;
    }
    // The swap: one assignment. Requests already pinned keep the old version to the end.
    this.compiled = policy.compiled;
    this.logger.log(
      { trigger, previousVersion: previous.version },
      `Enforcing convenant ${policy.compiled.convenant.id} version ${policy.compiled.version}`,
    );
    return { status: 'reloaded', version: policy.compiled.version, previousVersion: previous.version };
  }

  private async record(policy: EnforceablePolicy): Promise<void> {
    try {
      await this.versions.record(policy.compiled, policy.sources);
      await this.versions.recordRetention(policy.compiled, this.config.accessLogRetention);
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
      throw new PolicyInvalidError(this.config.policyDir, [
        {
          code: 'version-conflict',
          message: `version ${policy.compiled.version} is already recorded with different content; raise the convenant's version`,
        },
      ]);
    }
  }

  /**
   * fs.watch on the folder (no dependency: one flat folder of YAML files needs no recursive
   * watching or polling), debounced; a refused reload is already logged by reloadNow.
   */
  private startWatching(): void {
    this.watcher = watch(this.config.policyDir, { persistent: false }, () => {
      clearTimeout(this.debounce);
      this.debounce = setTimeout(() => {
        this.reload('watch').catch((error: unknown) => {
          if (!(error instanceof PolicyInvalidError))
            this.logger.error({ err: error }, 'Convenant reload failed');
        });
      }, WATCH_DEBOUNCE_MS);
      this.debounce.unref();
    });
    this.watcher.on('error', (error) =>
      this.logger.error({ err: error }, 'Watching the convenant folder failed'),
    );
    this.logger.log(`Watching ${this.config.policyDir} for convenant changes`);
  }
}
