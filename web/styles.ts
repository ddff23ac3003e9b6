import { css } from 'lit';

// The dark theme's defaults: for theme="dark", and for theme="auto" when the system is dark.
const darkColours = css`
  --_bg: var(--sm-inbox-bg, #1c2128);
  --_fg: var(--sm-inbox-fg, #e6edf3);
  --_muted: var(--sm-inbox-muted, #9198a1);
  --_border: var(--sm-inbox-border, #3d444d);
  --_accent: var(--sm-inbox-accent, #4493f8);
  --_unread-bg: var(--sm-inbox-unread-bg, #1f2a3a);
  --_hover: var(--sm-inbox-hover, rgba(230, 237, 243, 0.08));
  --_info: var(--sm-inbox-level-info, #4493f8);
  --_success: var(--sm-inbox-level-success, #3fb950);
  --_warning: var(--sm-inbox-level-warning, #d29922);
  --_error: var(--sm-inbox-level-error, #f85149);
`;

/**
 * The element's look. Pages theme it through the `--sm-inbox-*` custom properties (each read once,
 * below, with its light default; `theme="dark"`, or `theme="auto"` on a dark system, swaps the defaults) and
 * through the `::part()`s named in the template.
 */
export const styles = css`
  :host {
    --_bg: var(--sm-inbox-bg, #ffffff);
    --_fg: var(--sm-inbox-fg, #1f2328);
    --_muted: var(--sm-inbox-muted, #59636e);
    --_border: var(--sm-inbox-border, #d1d9e0);
    --_accent: var(--sm-inbox-accent, #0969da);
    --_unread-bg: var(--sm-inbox-unread-bg, #f0f6ff);
    --_hover: var(--sm-inbox-hover, rgba(31, 35, 40, 0.06));
    --_badge-bg: var(--sm-inbox-badge-bg, #cf222e);
    --_badge-fg: var(--sm-inbox-badge-fg, #ffffff);
    --_debug: var(--sm-inbox-level-debug, #8c959f);
    --_info: var(--sm-inbox-level-info, #0969da);
    --_success: var(--sm-inbox-level-success, #1a7f37);
    --_warning: var(--sm-inbox-level-warning, #9a6700);
    --_error: var(--sm-inbox-level-error, #cf222e);
    position: relative;
    display: inline-block;
    font: var(--sm-inbox-font, 14px/1.4 system-ui, -apple-system, 'Segoe UI', sans-serif);
    color: var(--_fg);
  }
  :host([theme='dark']) {
    ${darkColours}
  }
  @media (prefers-color-scheme: dark) {
    :host([theme='auto']) {
      ${darkColours}
    }
  }
  [hidden] { display: none !important; }
  button { font: inherit; color: inherit; cursor: pointer; }
  button:focus-visible, a:focus-visible { outline: 2px solid var(--_accent); outline-offset: 1px; }
  .bell { position: relative; display: inline-flex; padding: 6px; border: 1px solid var(--_border); border-radius: 6px; background: var(--_bg); }
  .bell svg { width: 20px; height: 20px; }
  .badge {
    position: absolute;
    top: -6px;
    right: -6px;
    min-width: 18px;
    padding: 0 4px;
    box-sizing: border-box;
    border-radius: 9px;
    background: var(--_badge-bg);
    color: var(--_badge-fg);
    font-size: 11px;
    line-height: 18px;
    font-weight: 600;
    text-align: center;
  }
  .panel {
    position: absolute;
    z-index: 10;
    top: calc(100% + 6px);
    right: 0;
    width: var(--sm-inbox-width, 380px);
    max-width: 95vw;
    background: var(--_bg);
    border: 1px solid var(--_border);
    border-radius: var(--sm-inbox-radius, 8px);
    box-shadow: 0 8px 24px rgba(0, 0, 0, 0.18);
    overflow: hidden;
  }
  :host([align='start']) .panel { right: auto; left: 0; }
  header { display: flex; align-items: center; justify-content: space-between; padding: 10px 12px; border-bottom: 1px solid var(--_border); }
  h2 { margin: 0; font-size: 15px; }
  .link-button { border: 0; background: none; color: var(--_accent); padding: 2px 4px; }
  [role='tablist'] { display: flex; gap: 2px; padding: 0 8px; border-bottom: 1px solid var(--_border); overflow-x: auto; }
  [role='tab'] { border: 0; border-bottom: 2px solid transparent; background: none; padding: 8px 10px; color: var(--_muted); white-space: nowrap; }
  [role='tab'][aria-selected='true'] { color: var(--_fg); border-bottom-color: var(--_accent); font-weight: 600; }
  .list-box { max-height: var(--sm-inbox-max-height, 420px); overflow-y: auto; }
  ul { list-style: none; margin: 0; padding: 0; }
  li {
    display: flex;
    gap: 8px;
    align-items: flex-start;
    padding: 10px 12px;
    border-bottom: 1px solid var(--_border);
    border-left: 3px solid var(--_level);
  }
  li.unread { background: var(--_unread-bg); }
  li.unread .text { font-weight: 600; }
  li:hover { background: var(--_hover); }
  .level-debug { --_level: var(--_debug); }
  .level-info { --_level: var(--_info); }
  .level-success { --_level: var(--_success); }
  .level-warning { --_level: var(--_warning); }
  .level-error { --_level: var(--_error); }
  .body { flex: 1; min-width: 0; }
  .text { overflow-wrap: anywhere; }
  a.text { color: inherit; }
  .meta { display: block; color: var(--_muted); font-size: 12px; margin-top: 2px; }
  .actions { display: flex; gap: 2px; opacity: 0.75; }
  li:hover .actions, li:focus-within .actions { opacity: 1; }
  .actions button { display: inline-flex; border: 0; background: none; padding: 4px; border-radius: 4px; color: var(--_muted); }
  .actions button:hover { background: var(--_hover); color: var(--_fg); }
  .actions svg { width: 16px; height: 16px; }
  .empty { padding: 24px 12px; margin: 0; text-align: center; color: var(--_muted); }
  .more { display: block; width: 100%; padding: 8px; border: 0; background: none; color: var(--_accent); }
  .toasts { position: fixed; z-index: 20; right: 16px; bottom: 16px; display: flex; flex-direction: column; gap: 8px; }
  .toast {
    min-width: 220px;
    max-width: 360px;
    padding: 10px 12px;
    border-radius: 6px;
    background: var(--_bg);
    border: 1px solid var(--_border);
    border-left: 4px solid var(--_level);
    box-shadow: 0 4px 12px rgba(0, 0, 0, 0.15);
  }
  .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;
