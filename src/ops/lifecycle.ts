import { Injectable } from '@nestjs/common';

/**
 * Whether this instance is on its way out. On SIGTERM readiness reports down first, so a load
 * balancer stops sending new requests before the server stops accepting them (main.ts).
 */
@Injectable()
export class Lifecycle {
  private drainingSince: Date | null = null;

  get draining(): boolean {
    return this.drainingSince !== null;
  }

  beginDrain(): void {
    this.drainingSince ??= new Date();
  }
}
