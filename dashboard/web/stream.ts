import { applyDelta, type LiveState, type StreamFrame } from '../live/model.js';
import { send, token } from './api.js';

/**
 * The live state in the page: a snapshot, then deltas applied with the same
 * reducer the server uses. On a gap or a dropped socket it reconnects with
 * its last seq, so it gets what it missed (or a fresh snapshot).
 */
export class LiveStream {
  state: LiveState | null = null;
  seq = -1;
  status: 'connecting' | 'live' | 'reconnecting' = 'connecting';
  onChange: (frame: StreamFrame) => void = () => {};
  onStatus: (s: LiveStream['status']) => void = () => {};
  #ws: WebSocket | null = null;
  #stopped = false;
  #retry = 500;

  async start(): Promise<void> {
    this.#stopped = false;
    const q = new URLSearchParams();
    if (this.seq >= 0) q.set('since', String(this.seq));
    if (token()) q.set('ticket', (await send<{ ticket: string }>('POST', '/api/stream/ticket')).ticket);
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/stream?${q}`);
    this.#ws = ws;
    ws.onopen = () => {
      this.#retry = 500;
      this.#set('live');
    };
    ws.onmessage = (m) => this.#frame(JSON.parse(String(m.data)) as StreamFrame);
    ws.onclose = () => {
      if (this.#stopped) return;
      this.#set('reconnecting');
      setTimeout(() => void this.start().catch(() => ws.onclose?.(new CloseEvent('close'))), this.#retry);
      this.#retry = Math.min(this.#retry * 2, 10_000);
    };
  }

  stop(): void {
    this.#stopped = true;
    this.#ws?.close();
  }

  #set(s: LiveStream['status']): void {
    this.status = s;
    this.onStatus(s);
  }

  #frame(f: StreamFrame): void {
    if (f.type === 'snapshot') {
      this.state = f.state;
    } else {
      if (!this.state || f.seq !== this.seq + 1) {
        // A gap: reconnect from the last seq we applied.
        this.#ws?.close();
        return;
      }
      if (f.resync) {
        // What this view may see changed (a meter changed hands): start again from a snapshot.
        this.seq = -1;
        this.#ws?.close();
        return;
      }
      applyDelta(this.state, f);
    }
    this.seq = f.seq;
    this.onChange(f);
  }
}
