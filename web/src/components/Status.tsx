import { useEffect, useRef } from 'react';
import { useI18n } from '../i18n';

/** A polite live region: screen readers hear that a long query is running. */
export function Loading() {
  const { t } = useI18n();
  return (
    <p className="loading" role="status">
      <span className="spinner" aria-hidden="true" />
      {t('loading')}
    </p>
  );
}

/** An error as a sentence, announced at once. */
export function ErrorMessage({ message }: { message: string | null }) {
  if (!message) return null;
  return (
    <p className="error" role="alert">
      {message}
    </p>
  );
}

let firstView = true;

/**
 * The view's heading. It takes focus when the officer moves to another view, so keyboard and
 * screen reader users start there; not on page load, where the skip link comes first.
 */
export function ViewHeading({ children }: { children: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (firstView) firstView = false;
    else ref.current?.focus();
  }, []);
  return (
    <h1 ref={ref} tabIndex={-1}>
      {children}
    </h1>
  );
}
