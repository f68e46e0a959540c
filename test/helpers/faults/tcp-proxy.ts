/**
 * A TCP proxy the test controls (a tiny Toxiproxy), put between one process and PostgreSQL:
 * - `blackhole()`: stop reading and forwarding in both directions without closing anything, as
 *   a partition or a dead switch does — both ends keep their sockets and see no error (new
 *   connections are accepted and held the same way);
 * - `drop()`: destroy every connection and refuse new ones (the listener closes: ECONNREFUSED);
 * - `restore()`: forward again (held bytes flow on; a dropped proxy listens again on its port).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

/** The proxy's mode. */
export type ProxyState = 'open' | 'blackhole' | 'dropped';

interface Pair {
  client: Socket;
  upstream: Socket | null;
}

/** A TCP proxy from 127.0.0.1:`port` to `target`. */
export class TcpProxy {
  private state_: ProxyState = 'open';
  private readonly pairs = new Set<Pair>();
  private server: Server;
  private opened = 0;

  private constructor(
    private readonly target: { host: string; port: number },
    readonly port: number,
    server: Server,
  ) {
    this.server = server;
  }

  /** Listen on `port` (a free one when 0) and forward to `target`. */
  static async start(target: { host: string; port: number }, port = 0): Promise<TcpProxy> {
    let proxy: TcpProxy | null = null;
    const server = createServer((socket) => proxy!.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (typeof address !== 'object' || address === null) throw new Error('proxy: no address');
    proxy = new TcpProxy(target, address.port, server);
    return proxy;
  }

  /** For a PostgreSQL URL: the same URL through the proxy. */
  static forUrl(url: string): { host: string; port: number } {
    const u = new URL(url);
    return { host: u.hostname, port: Number(u.port || 5432) };
  }

  /** `url` with its host and port replaced by the proxy's. */
  rewrite(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  get state(): ProxyState {
    return this.state_;
  }

  /** Connections open now, and accepted in total. */
  get connections(): { open: number; total: number } {
    return { open: this.pairs.size, total: this.opened };
  }

  blackhole(): void {
    if (this.state_ === 'dropped') throw new Error('proxy: restore() a dropped proxy first');
    this.state_ = 'blackhole';
    for (const pair of this.pairs) {
      pair.client.pause();
      pair.upstream?.pause();
    }
  }

  async drop(): Promise<void> {
    this.state_ = 'dropped';
    for (const pair of this.pairs) this.destroy(pair);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  async restore(): Promise<void> {
    if (this.state_ === 'dropped') {
      const server = createServer((socket) => this.accept(socket));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.port, '127.0.0.1', () => resolve());
      });
      this.server = server;
    }
    this.state_ = 'open';
    for (const pair of this.pairs) {
      if (!pair.upstream) this.connectUpstream(pair);
      pair.client.resume();
      pair.upstream?.resume();
    }
  }

  /** Close the listener and every connection. */
  async close(): Promise<void> {
    for (const pair of this.pairs) this.destroy(pair);
    if (this.server.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    if (this.state_ === 'dropped') {
      client.destroy();
      return;
    }
    this.opened += 1;
    const pair: Pair = { client, upstream: null };
    this.pairs.add(pair);
    client.on('error', () => this.destroy(pair));
    client.on('close', () => this.destroy(pair));
    client.pause();
    // Held connections get their upstream when the proxy opens again.
    if (this.state_ === 'open') {
      this.connectUpstream(pair);
      client.resume();
    }
  }

  private connectUpstream(pair: Pair): void {
    const upstream = connect(this.target.port, this.target.host);
    pair.upstream = upstream;
    upstream.on('error', () => this.destroy(pair));
    upstream.on('close', () => this.destroy(pair));
    this.forward(pair.client, upstream);
    this.forward(upstream, pair.client);
  }

  /** Copy `from` → `to` with backpressure; nothing moves while the proxy is not open. */
  private forward(from: Socket, to: Socket): void {
    from.on('data', (chunk: Buffer) => {
      if (!to.write(chunk)) from.pause();
    });
    to.on('drain', () => {
      if (this.state_ === 'open') from.resume();
    });
  }

  private destroy(pair: Pair): void {
    if (!this.pairs.delete(pair)) return;
    pair.client.destroy();
    pair.upstream?.destroy();
  }
}
