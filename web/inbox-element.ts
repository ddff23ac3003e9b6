import { html, LitElement, nothing, type PropertyValues } from 'lit';
import { inboxApi, type InboxApi } from './api.js';
import { bellIcon } from './icons.js';
import { levelOf, renderItem, type ItemActions } from './item.js';
import { startLive, type LiveNews } from './live.js';
import { InboxModel, type Item, type Tab } from './model.js';
import { styles } from './styles.js';
import { categoryOf, tabAfterKey, tabsOf } from './tabs.js';

const TOAST_MS = 6000;
const LOAD_WAIT_MS = 3000;

/**
 * `<stored-messages-inbox endpoint="https://host/graphql">`: a bell with the unseen count and a panel
 * listing the inbox, kept current by one live connection per browser (web/live.ts). Set `getToken`
 * (a function returning a promise of the raw JWT) before or after the element is defined; it is
 * called for every request and on every (re)connect. Nothing happens until it is set.
 */
export class StoredMessagesInbox extends LitElement {
  static override styles = styles;
  static override properties = {
    endpoint: { type: String },
    getToken: { attribute: false },
    transport: { type: String },
    snoozeMinutes: { type: Number, attribute: 'snooze-minutes' },
    theme: { type: String, reflect: true },
    open: { type: Boolean, reflect: true },
    live: { type: Boolean, reflect: true },
    tab: { state: true },
    toasts: { state: true },
    error: { state: true },
  };

  /** The GraphQL endpoint; default: /graphql on the server this module came from. */
  declare endpoint: string;
  declare getToken: (() => Promise<string> | string) | null;
  /** `auto` (WebSocket, SSE when WebSockets cannot connect), `ws` or `sse`. */
  declare transport: 'auto' | 'ws' | 'sse';
  declare snoozeMinutes: number;
  /** `light` (default) or `dark`: the colours the custom properties default to. */
  declare theme: string;
  declare open: boolean;
  /** Set (and reflected) while events reach this tab, from its own connection or the leader tab's. */
  declare live: boolean;
  declare tab: Tab;
  declare toasts: { key: number; text: string; level: string }[];
  declare error: string | null;

  readonly model = new InboxModel();
  private api: InboxApi | null = null;
  private stopLive: (() => void) | null = null;
  private next = new Map<Tab, string | null>();
  private loaded = false;
  /** Loaded since the live connection started after its cursor (a load before it may miss what came in between). */
  private synced = false;
  private loadTimer: ReturnType<typeof setTimeout> | undefined;
  private toastKey = 0;
  private readonly closeOutside = (e: Event) => this.open && !e.composedPath().includes(this) && this.toggle(false);

  constructor() {
    super();
    this.endpoint = new URL(/* @vite-ignore */ '/graphql', import.meta.url).href;
    this.getToken = null;
    this.transport = 'auto';
    this.snoozeMinutes = 60;
    this.theme = 'light';
    this.open = false;
    this.live = false;
    this.tab = 'unread';
    this.toasts = [];
    this.error = null;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    document.addEventListener('pointerdown', this.closeOutside);
    // Moved in the page (removed, then added again): connect again; the first time, updated() does.
    if (this.hasUpdated) this.restart();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    document.removeEventListener('pointerdown', this.closeOutside);
    this.stop();
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('endpoint') || changed.has('getToken') || changed.has('transport')) this.restart();
  }

  /** Shows or hides the panel; showing it loads the current tab and marks what it shows as seen. */
  toggle(open = !this.open): void {
    this.open = open;
    if (open) void this.showTab(this.tab);
  }

  private restart(): void {
    this.stop();
    // The token or the endpoint changed (or went): what was shown may be another user's.
    this.model.clear();
    this.next.clear();
    this.live = false;
    this.requestUpdate();
    const getToken = this.getToken;
    if (!getToken || !this.isConnected) return;
    const token = async () => getToken.call(null);
    const api = inboxApi(this.endpoint, token);
    this.api = api;
    this.stopLive = startLive({
      url: this.endpoint,
      getToken: token,
      transport: this.transport,
      startCursor: () => api.cursor(),
      onNews: (news) => this.hear(news),
      onError: (error) => this.fail(error),
    });
    // The first load waits for the live connection, so nothing falls between the two; not for long.
    this.loaded = false;
    this.synced = false;
    this.loadTimer = setTimeout(() => this.loaded || this.reload(), LOAD_WAIT_MS);
  }

  private stop(): void {
    clearTimeout(this.loadTimer);
    this.stopLive?.();
    this.stopLive = null;
    this.api = null;
  }

  /** Counts, and the open tab's first page, from the server (at start and on RESYNC). */
  private async reload(): Promise<void> {
    const api = this.api;
    if (!api) return;
    this.loaded = true;
    this.next.clear();
    await this.run(async () => {
      await api.counts(this.model);
      if (this.open) await this.showTab(this.tab);
    });
  }

  private hear(news: LiveNews): void {
    if (news.kind === 'resync') return void this.reload();
    if (news.kind === 'flash') return this.toast(news.message);
    if (news.kind === 'live') {
      this.live = news.live;
      if (news.live && !this.synced) {
        this.synced = true;
        void this.reload();
      }
      return;
    }
    this.model.apply(news.event);
    this.requestUpdate();
    if (this.open) void this.markShownSeen();
  }

  private async showTab(tab: Tab): Promise<void> {
    this.tab = tab;
    if (!this.next.has(tab)) await this.loadMore(tab);
    await this.markShownSeen();
  }

  private async loadMore(tab: Tab): Promise<void> {
    const api = this.api;
    if (!api) return;
    await this.run(async () => {
      const asked = this.model.mark();
      const page = await api.page(tab, this.next.get(tab) ?? null);
      this.model.put(page.items, asked);
      this.next.set(tab, page.next);
    });
  }

  private async markShownSeen(): Promise<void> {
    const ids = this.model.view(this.tab).filter((m) => !m.seen).map((m) => m.id);
    const api = this.api;
    if (api && ids.length) await this.run(() => api.markSeen(this.model, ids));
  }

  /** Runs a call that changes the model, then renders; a failure is shown in the panel. */
  private async run(call: () => Promise<void>): Promise<void> {
    try {
      await call();
      this.error = null;
    } catch (error) {
      this.fail(error);
    }
    this.requestUpdate();
  }

  private fail(error: unknown): void {
    this.error = error instanceof Error ? error.message : 'The inbox could not reach the server.';
  }

  private toast(message: Item): void {
    const key = ++this.toastKey;
    this.toasts = [...this.toasts, { key, text: message.text, level: levelOf(message.levelTag) }];
    setTimeout(() => (this.toasts = this.toasts.filter((t) => t.key !== key)), TOAST_MS);
  }

  private readonly actions: ItemActions = {
    read: (id, read) => this.act((api) => api.markRead(this.model, [id], read)),
    archive: (id, archived) => this.act((api) => api.archive(this.model, [id], archived)),
    snooze: (id) => this.act((api) => api.snooze(this.model, [id], this.snoozeMinutes)),
    remove: (id) => this.act((api) => api.remove(this.model, [id])),
    open: (id) => this.act((api) => api.markRead(this.model, [id], true)),
  };

  private act(call: (api: InboxApi) => Promise<void>): void {
    const api = this.api;
    if (api) void this.run(() => call(api));
  }

  /** Arrow keys move between tabs (the ARIA tabs pattern); Escape closes the panel and returns to the bell. */
  private onKey(e: KeyboardEvent): void {
    if (e.key === 'Escape') {
      this.toggle(false);
      this.renderRoot.querySelector<HTMLElement>('.bell')?.focus();
      return;
    }
    const tab = (e.target as HTMLElement).matches('[role=tab]') ? tabAfterKey(tabsOf(this.model), this.tab, e.key) : null;
    if (!tab) return;
    e.preventDefault();
    void this.showTab(tab).then(() => this.renderRoot.querySelector<HTMLElement>('[role=tab][aria-selected=true]')?.focus());
  }

  protected override render() {
    const unseen = this.model.unseen;
    const items = this.model.view(this.tab);
    const category = categoryOf(this.tab);
    return html`
      <button type="button" class="bell" part="bell" aria-label=${unseen ? `Notifications, ${unseen} unseen` : 'Notifications'}
        aria-expanded=${this.open} aria-controls="panel" @click=${() => this.toggle()}>
        ${bellIcon}${unseen ? html`<span class="badge" part="badge" aria-hidden="true">${unseen > 99 ? '99+' : unseen}</span>` : nothing}
      </button>
      <div id="panel" class="panel" part="panel" role="dialog" aria-label="Notifications" ?hidden=${!this.open} @keydown=${this.onKey}>
        <header part="header">
          <h2>Notifications</h2>
          <button type="button" class="link-button" part="mark-all" @click=${() => this.act((api) => api.markAllRead(this.model, category))}>Mark all as read</button>
        </header>
        <div role="tablist" aria-label="Views" part="tabs">
          ${tabsOf(this.model).map(({ tab, label }) => html`<button type="button" role="tab" id="tab-${tab}" part="tab" aria-selected=${tab === this.tab}
            aria-controls="tabpanel" tabindex=${tab === this.tab ? 0 : -1} @click=${() => this.showTab(tab)}>${label}</button>`)}
        </div>
        <div id="tabpanel" class="list-box" role="tabpanel" aria-labelledby="tab-${this.tab}" part="tabpanel">
          ${this.error ? html`<p class="empty" part="error" role="alert">${this.error}</p>` : nothing}
          ${items.length ? html`<ul part="list">${items.map((m) => renderItem(m, this.actions))}</ul>` : html`<p class="empty" part="empty">Nothing here</p>`}
          ${this.next.get(this.tab) ? html`<button type="button" class="more" part="more" @click=${() => this.loadMore(this.tab)}>Load more</button>` : nothing}
        </div>
      </div>
      <div class="toasts" role="status" part="toasts">
        ${this.toasts.map((t) => html`<div class="toast level-${t.level}" part="toast">${t.text}</div>`)}
      </div>
    `;
  }
}
