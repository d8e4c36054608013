import { useEffect, useState } from 'react';
import { api, ApiError, type ConvenantMatrix, type Level } from '../api';
import { useI18n, type MessageKey } from '../i18n';
import { ErrorMessage, Loading, ViewHeading } from '../components/Status';

/** Elements the plain-language rendering may use; everything else (and every attribute) is dropped. */
const ALLOWED = new Set([
  'H1',
  'H2',
  'H3',
  'H4',
  'P',
  'UL',
  'OL',
  'LI',
  'DL',
  'DT',
  'DD',
  'TABLE',
  'THEAD',
  'TBODY',
  'TR',
  'TH',
  'TD',
  'STRONG',
  'EM',
  'CODE',
  'BR',
  'SECTION',
  'BLOCKQUOTE',
  'SPAN',
  'SMALL',
  'ABBR',
  'CAPTION',
]);

/**
 * The gateway's HTML rendering, reduced to plain structure: no scripts, styles, links or
 * attributes reach the page, whatever the convenant text holds. Headings move down one level,
 * under this view's own h1.
 */
function sanitise(html: string): Node[] {
  // Parsed inert in a template: its <style> is never applied (nor reported to the page's CSP).
  const template = document.createElement('template');
  template.innerHTML = html;
  const source = template.content;
  const copy = (node: Node): Node[] => {
    if (node.nodeType === Node.TEXT_NODE) return [document.createTextNode(node.textContent ?? '')];
    if (!(node instanceof Element)) return [];
    const children = [...node.childNodes].flatMap(copy);
    if (!ALLOWED.has(node.tagName)) {
      return ['SCRIPT', 'STYLE', 'TEMPLATE', 'IFRAME', 'OBJECT', 'TITLE', 'HEAD'].includes(node.tagName)
        ? []
        : children;
    }
    const heading = /^H([1-4])$/.exec(node.tagName);
    const element = document.createElement(
      heading ? `h${Math.min(Number(heading[1]) + 1, 6)}` : node.tagName,
    );
    for (const name of ['colspan', 'rowspan', 'scope']) {
      const value = node.getAttribute(name);
      if (value && /^[a-z0-9]{1,8}$/i.test(value)) element.setAttribute(name, value);
    }
    element.append(...children);
    return [element];
  };
  return [...source.childNodes].flatMap(copy);
}

/** One verdict, short on screen ("I: alles") and in full for screen readers ("inzien: alles"). */
function Cell({ level, short, label }: { level: Level; short: string; label: string }) {
  const { t } = useI18n();
  return (
    <span className={`level ${level}`}>
      <span aria-hidden="true">{short}</span>
      <span className="visually-hidden">{label}</span>: {t(`convenant.level.${level}` as MessageKey)}
    </span>
  );
}

export function Convenant() {
  const { t } = useI18n();
  const [matrix, setMatrix] = useState<ConvenantMatrix | null>(null);
  const [documentNodes, setDocumentNodes] = useState<Node[] | null>(null);
  const [container, setContainer] = useState<HTMLDivElement | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    Promise.all([api.matrix(), api.convenantDocument()])
      .then(([m, html]) => {
        setMatrix(m);
        setDocumentNodes(sanitise(html));
      })
      .catch((failure: unknown) =>
        setError(failure instanceof ApiError ? failure.sentence(t) : String(failure)),
      )
      .finally(() => setLoading(false));
    // Once per visit: switching the language re-renders, it does not ask (and log) again.
  }, []);

  useEffect(() => {
    if (container && documentNodes) container.replaceChildren(...documentNodes);
  }, [container, documentNodes]);

  return (
    <section>
      <ViewHeading>{t('convenant.title')}</ViewHeading>
      <p>{t('convenant.intro')}</p>
      {loading && <Loading />}
      <ErrorMessage message={error} />
      {matrix && (
        <>
          <h2>{t('convenant.matrix')}</h2>
          <p>{t('convenant.version', { convenant: matrix.convenant, version: matrix.version })}</p>
          <p className="help">{t('convenant.legend')}</p>
          <div className="table-wrap" tabIndex={0} role="region" aria-label={t('convenant.matrix')}>
            <table className="matrix">
              <thead>
                <tr>
                  <th scope="col">{t('convenant.partnerPurpose')}</th>
                  {matrix.sections.map((s) => (
                    <th key={s} scope="col">
                      {s}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {matrix.rows.map((row) => (
                  <tr key={`${row.partner}/${row.purpose}`}>
                    <th scope="row">
                      {row.partnerName}
                      <br />
                      <small>{row.purposeName}</small>
                    </th>
                    {matrix.sections.map((s) => {
                      const cell = row.cells[s];
                      return (
                        <td key={s}>
                          {cell && (
                            <>
                              <Cell
                                level={cell.read}
                                short={t('convenant.readShort')}
                                label={t('convenant.read')}
                              />
                              <Cell
                                level={cell.write}
                                short={t('convenant.writeShort')}
                                label={t('convenant.write')}
                              />
                              {cell.emergency && (
                                <span className="badge emergency">
                                  <span aria-hidden="true">!</span>
                                  <span className="visually-hidden">{t('convenant.emergencyAllowed')}</span>
                                </span>
                              )}
                            </>
                          )}
                        </td>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
      {documentNodes && (
        <>
          <h2>{t('convenant.document')}</h2>
          <div className="document" ref={setContainer} />
        </>
      )}
    </section>
  );
}
