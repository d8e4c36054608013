/** The UI tests start the same Chromium as `convenant render --pdf` (src/cli/chromium.ts). */
export {
  CHROMIUM_ARGS,
  chromiumExecutable,
  launchChromium,
  SYSTEM_CHROMIUMS,
} from '../../src/cli/chromium.js';
