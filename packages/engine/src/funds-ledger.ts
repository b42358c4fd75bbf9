/**
 * The funds ledger: every deposit and every withdrawal of every user, in command order — the
 * exchange's money trail, kept whole. Only admins' commands add to it (deposits and withdrawals,
 * never trading), so it grows with their work: about 200 bytes an entry, 1 GB per 5 million.
 *
 * It also answers retries (AIP-155): the request ids of a user's last `retainRequests` withdrawals
 * that had one, and of as many deposits (their references), which restore rebuilds from the entries themselves.
 */
import type { LedgerEntryView } from './api';
import { forgetOldestBeyond } from './oldest-first';

export class FundsLedger {
  /** By account index; oldest first. */
  private readonly entries = new Map<number, LedgerEntryView[]>();
  /** By account index: request id → its withdrawal, oldest first (a Map keeps insertion order). */
  private readonly withdrawals = new Map<number, Map<string, LedgerEntryView>>();
  /** The same for deposits. */
  private readonly deposits = new Map<number, Map<string, LedgerEntryView>>();

  constructor(private retainRequests: number) {}

  /** A new bound on the request ids kept (a configure command): a lower one forgets each account's oldest now. */
  setRetention(retainRequests: number): void {
    this.retainRequests = retainRequests;
    for (const byAccount of [this.withdrawals, this.deposits]) {
      for (const requests of byAccount.values()) forgetOldestBeyond(requests, retainRequests);
    }
  }

  record(account: number, entry: LedgerEntryView): void {
    let list = this.entries.get(account);
    if (list === undefined) this.entries.set(account, (list = []));
    list.push(entry);
    if (entry.requestId === undefined || this.retainRequests === 0) return;
    const byAccount = entry.kind === 'withdrawal' ? this.withdrawals : this.deposits;
    let requests = byAccount.get(account);
    if (requests === undefined) byAccount.set(account, (requests = new Map()));
    requests.set(entry.requestId, entry);
    forgetOldestBeyond(requests, this.retainRequests);
  }

  /** The retained withdrawal of the account with this request id. */
  withdrawal(account: number, requestId: string): LedgerEntryView | undefined {
    return this.withdrawals.get(account)?.get(requestId);
  }

  /** The retained deposit of the account with this request id. */
  deposit(account: number, requestId: string): LedgerEntryView | undefined {
    return this.deposits.get(account)?.get(requestId);
  }

  /** The account's entries, oldest first. */
  entriesOf(account: number): readonly LedgerEntryView[] {
    return this.entries.get(account) ?? [];
  }

  /** Copies of every account's entries, by account index ascending (what a snapshot keeps). */
  copy(): [number, LedgerEntryView[]][] {
    return [...this.entries].map(([account, list]): [number, LedgerEntryView[]] => [account, list.slice()]).sort(([a], [b]) => a - b);
  }
}
