import { useEffect, useState } from 'react';

/**
 * A small History API router under /fg/: five views, no parameters in paths (nothing personal
 * ever goes into a URL), so a library would add more than it saves. The gateway answers every
 * /fg/ path with index.html, so reloading a view works.
 */
export type View = 'log' | 'subject' | 'emergency' | 'integrity' | 'convenant';

export const PATHS: Record<View, string> = {
  log: '/fg/toegangslog',
  subject: '/fg/betrokkene',
  emergency: '/fg/doorbraken',
  integrity: '/fg/integriteit',
  convenant: '/fg/convenant',
};

function viewOf(pathname: string): View {
  const found = (Object.entries(PATHS) as [View, string][]).find(([, path]) => pathname.startsWith(path));
  return found?.[0] ?? 'log';
}

export function navigate(view: View): void {
  if (location.pathname !== PATHS[view]) history.pushState(null, '', PATHS[view]);
  dispatchEvent(new PopStateEvent('popstate'));
}

export function useView(): View {
  const [view, setView] = useState<View>(() => viewOf(location.pathname));
  useEffect(() => {
    const update = () => setView(viewOf(location.pathname));
    addEventListener('popstate', update);
    return () => removeEventListener('popstate', update);
  }, []);
  return view;
}
