import { HttpStatus } from '@nestjs/common';
import { DomainError, type InvalidParam } from '../common/problem.js';

/**
 * The refusals of the case routes. Each one's sentence goes into the problem's `detail` and,
 * for refusals that are logged, into the access log's `reason`. Sentences name ids and catalogue
 * fields only, never values.
 */

export class CaseNotFoundError extends DomainError {
  constructor() {
    super(HttpStatus.NOT_FOUND, 'case-not-found', 'Case not found', 'There is no case with this id.');
  }
}

export class UnknownFieldError extends DomainError {
  constructor(fieldId: string) {
    super(
      HttpStatus.NOT_FOUND,
      'unknown-field',
      'Unknown field',
      `${fieldId} is not a field in the data catalogue of the convenant in force.`,
    );
  }
}

export class PersonNotFoundError extends DomainError {
  constructor() {
    super(
      HttpStatus.NOT_FOUND,
      'person-not-found',
      'Person not found',
      'There is no person with this subjectRef in this case.',
    );
  }
}

export class NotParticipatingError extends DomainError {
  constructor(partner: string, purpose: string) {
    super(
      HttpStatus.FORBIDDEN,
      'not-participating',
      'Not participating',
      `${partner} takes no part in this case for purpose ${purpose} at this moment ` +
        '(no participation, not started yet, or ended).',
    );
  }
}

/** Some of the values may not be written; nothing was written. `errors` names every one. */
export class FieldsNotWritableError extends DomainError {
  constructor(readonly errors: InvalidParam[]) {
    super(
      HttpStatus.FORBIDDEN,
      'fields-not-writable',
      'Fields not writable',
      'The convenant does not allow you to write some of these fields; nothing was written. See errors.',
      { errors },
    );
  }
}

export class FieldNotReadableError extends DomainError {
  constructor(fieldId: string) {
    super(
      HttpStatus.FORBIDDEN,
      'field-not-readable',
      'Field not readable',
      `The convenant does not allow you to read ${fieldId} of this case now.`,
    );
  }
}

/** Well-formed JSON whose values do not fit the catalogue (type, level, person). Nothing was written. */
export class InvalidFieldValuesError extends DomainError {
  constructor(readonly errors: InvalidParam[]) {
    super(
      HttpStatus.UNPROCESSABLE_ENTITY,
      'invalid-field-values',
      'Invalid field values',
      'Some values do not fit the data catalogue; nothing was written. See errors.',
      { errors },
    );
  }
}

export class ManageNotAllowedError extends DomainError {
  constructor(detail: string) {
    super(HttpStatus.FORBIDDEN, 'manage-not-allowed', 'Managing this case is not allowed', detail);
  }
}

export class PartnerNotRegisteredError extends DomainError {
  constructor(readonly errors: InvalidParam[]) {
    super(
      HttpStatus.UNPROCESSABLE_ENTITY,
      'partner-not-registered',
      'Partner not registered for these purposes',
      'The convenant does not register this partner for every purpose given. See errors.',
      { errors },
    );
  }
}

export class ParticipationNotFoundError extends DomainError {
  constructor() {
    super(
      HttpStatus.NOT_FOUND,
      'participation-not-found',
      'Participation not found',
      'This case has no participation with this id.',
    );
  }
}

export class ParticipationEndedError extends DomainError {
  constructor() {
    super(
      HttpStatus.CONFLICT,
      'participation-ended',
      'Participation already ended',
      'This participation has already ended.',
    );
  }
}

/** The token's partner or purpose is not one the convenant in force recognises for it. */
export class PurposeNotAllowedHereError extends DomainError {
  constructor(detail: string) {
    super(HttpStatus.FORBIDDEN, 'purpose-not-allowed', 'Purpose not allowed', detail);
  }
}

export class PhaseUnchangedError extends DomainError {
  constructor(phase: string) {
    super(
      HttpStatus.CONFLICT,
      'phase-unchanged',
      'Phase unchanged',
      `The case is already in phase ${phase}; nothing was changed.`,
    );
  }
}

/** The token's purpose does not allow emergency access (doorbraak) in the convenant. */
export class EmergencyAccessNotAllowedError extends DomainError {
  constructor(purpose: string) {
    super(
      HttpStatus.FORBIDDEN,
      'emergency-access-not-allowed',
      'Emergency access not allowed',
      `The convenant does not allow emergency access (doorbraak) under purpose ${purpose}.`,
    );
  }
}

/** A closed case is open to a doorbraak only where a rule names phase afgesloten. */
export class EmergencyClosedCaseError extends DomainError {
  constructor(purpose: string) {
    super(
      HttpStatus.FORBIDDEN,
      'emergency-access-closed-case',
      'No emergency access to a closed case',
      `This case is closed, and no rule of the convenant opens a closed case to emergency access (doorbraak) under purpose ${purpose}. If there is danger now, make a new report.`,
    );
  }
}

/** The professional had emergency access to this case, but its window is over. */
export class EmergencyAccessExpiredError extends DomainError {
  constructor(until: string) {
    super(
      HttpStatus.FORBIDDEN,
      'emergency-access-expired',
      'Emergency access expired',
      `Your emergency access to this case ended at ${until}, and you take no part in it for this purpose. ` +
        'Claim emergency access again only if the danger is still acute.',
    );
  }
}

export class NotControllerError extends DomainError {
  constructor() {
    super(
      HttpStatus.FORBIDDEN,
      'not-controller-of-record',
      'Not the controller of record',
      'Only the partner that brought the case in (its controller of record) sees the emergency accesses to it.',
    );
  }
}

/** The convenant shows only current values under this purpose (no `field_history`). */
export class HistoryNotAllowedError extends DomainError {
  constructor(purpose: string) {
    super(
      HttpStatus.FORBIDDEN,
      'history-not-allowed',
      'History not allowed',
      `The convenant shows only current values under purpose ${purpose}, not their earlier versions.`,
    );
  }
}
