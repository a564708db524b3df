/**
 * A lease of a projection or relay as the cluster's views show it (`GET /v1/cluster`, `thalo
 * cluster`): who runs the consumer now, under which fence, and how long the lease still lasts.
 * A wire type, defined with the API's vocabulary (src/protocol/http.ts).
 */
import type { LeaseInfo } from '../protocol/http.js';

export type { LeaseInfo };

/** The lease row's name for a consumer: `projection:<name>` or `relay:<name>`. */
export function leaseName(kind: LeaseInfo['kind'], name: string): string {
  return `${kind}:${name}`;
}
