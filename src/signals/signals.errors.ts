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
