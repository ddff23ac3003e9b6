import type { InboxModel, Tab } from './model.js';

export interface TabInfo {
  tab: Tab;
  label: string;
}

const FIXED_TABS: TabInfo[] = [
  { tab: 'unread', label: 'Unread' },
  { tab: 'all', label: 'All' },
  { tab: 'archived', label: 'Archived' },
];

/** Unread, All, Archived, then one tab per category among the loaded messages. */
export function tabsOf(model: InboxModel): TabInfo[] {
  return [...FIXED_TABS, ...model.categories().map((c) => ({ tab: `category:${c}` as Tab, label: c }))];
}

/** The category a tab shows, or null for the fixed tabs. */
export const categoryOf = (tab: Tab): string | null => (tab.startsWith('category:') ? tab.slice('category:'.length) : null);

/** The tab a key moves to from `current` (the ARIA tabs pattern: arrows wrap, Home, End), or null for other keys. */
export function tabAfterKey(tabs: TabInfo[], current: Tab, key: string): Tab | null {
  const at = tabs.findIndex((t) => t.tab === current);
  const to = ({ ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 } as Record<string, number>)[key];
  return to === undefined ? null : tabs[(to + tabs.length) % tabs.length].tab;
}
