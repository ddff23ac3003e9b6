import { html, type TemplateResult } from 'lit';

// 16x16 outline icons drawn with one path each, so they follow the text colour (currentColor).
const icon = (d: string): TemplateResult =>
  html`<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d=${d}></path></svg>`;

export const bellIcon = icon('M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9M10.3 21a1.94 1.94 0 0 0 3.4 0');
export const readIcon = icon('M20 6 9 17l-5-5');
export const unreadIcon = icon('M12 12m-4 0a4 4 0 1 0 8 0a4 4 0 1 0-8 0');
export const archiveIcon = icon('M3 4h18v4H3zM5 8v12h14V8M10 12h4');
export const unarchiveIcon = icon('M3 4h18v4H3zM5 8v12h14V8M12 18v-6M9 15l3-3 3 3');
export const snoozeIcon = icon('M12 12m-9 0a9 9 0 1 0 18 0a9 9 0 1 0-18 0M12 7v5l3 2');
export const deleteIcon = icon('M3 6h18M8 6V4h8v2M6 6l1 14h10l1-14');
