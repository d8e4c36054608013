import { HttpStatus } from '@nestjs/common';
import { DomainError } from '../common/problem.js';

export class SignalNotFoundError extends DomainError {
  constructor() {
    super(
      HttpStatus.NOT_FOUND,
      'signal-not-found',
      'Signal not found',
      'Your organisation has no involvement signal with this id.',
    );
  }
}

export class SignalWithdrawnError extends DomainError {
  constructor() {
    super(
      HttpStatus.CONFLICT,
      'signal-withdrawn',
      'Signal already withdrawn',
      'This signal was already withdrawn.',
    );
  }
}

/** The verwijsindex hashes a BSN; UAVG art. 46 allows that only where a law allows it. */
export class NoBsnBasisError extends DomainError {
  constructor(partner: string, purpose: string) {
    super(
      HttpStatus.FORBIDDEN,
      'no-bsn-basis',
      'No legal basis for the BSN',
      `None of the legal bases of purpose ${purpose} that apply to ${partner} permits processing the BSN, so the gateway does not hash it. Signal under a purpose with a BSN basis for your organisation.`,
    );
  }
}
