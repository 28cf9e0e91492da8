// Where and how the edge talks to the clearinghouse: base URL, TLS client certificate (node to node),
// and — only for this process's own clearinghouse over loopback HTTP — the local CLI token as Bearer.
import type { TlsClientOptions } from '../../../lib/soap/index.ts';

export interface ClearinghouseTarget {
  /** Base URL without trailing slash, e.g. https://hub.example.org:8443 */
  readonly baseUrl: string;
  readonly tls?: TlsClientOptions;
  /** Extra request headers (Authorization for the in-process default). */
  readonly headers?: Readonly<Record<string, string>>;
}

export function endpoint(target: ClearinghouseTarget, path: string): string {
  return target.baseUrl.replace(/\/+$/, '') + path;
}

/** A stable name of the destination, for "already stored there" bookkeeping (no credentials in it). */
export function destinationKey(target: ClearinghouseTarget): string {
  const url = new URL(target.baseUrl);
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}
