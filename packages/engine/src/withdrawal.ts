/**
 * Withdrawals: an admin takes funds out of a user's available balance (what open orders lock is
 * never touched), recorded in the funds ledger with the admin and an external reference.
 */
import type { CommandResult, LedgerEntryView, WithdrawCommand } from './api';
import type { EventRecorder } from './events';
import { formatAmount } from './fixed-point';
import type { EngineState } from './state';
import { amountError, invalid, isClientOrderId, reject, userIdError } from './validation';

/** External references: 1 to 128 printable ASCII characters. */
export const REFERENCE_MAX_LENGTH = 128;
const REFERENCE = /^[\x20-\x7e]{1,128}$/;
/** Whether `v` is an external reference (of a withdrawal, or a deposit's). */
export const isReference = (v: unknown): boolean => typeof v === 'string' && REFERENCE.test(v);

/** An admin id, as a command carries it: a non-empty string (the verified caller). */
export const isAdminId = (v: unknown): boolean => typeof v === 'string' && v.length > 0;

export class Withdrawals {
  constructor(
    private readonly state: EngineState,
    private readonly recorder: EventRecorder,
  ) {}

  /** Every check comes first: a refused withdrawal changes nothing. */
  apply(cmd: WithdrawCommand): CommandResult {
    const userError = userIdError(cmd.userId);
    if (userError !== undefined) return { ok: false, error: userError };
    const assetIndex = this.state.assetIndex.get(cmd.asset);
    if (assetIndex === undefined) return invalid('asset', `unknown asset "${cmd.asset}"`);
    const error = amountError(cmd.amount);
    if (error !== undefined) return { ok: false, error };
    const requestId = cmd.requestId === '' ? undefined : cmd.requestId;
    if (requestId !== undefined && !isClientOrderId(requestId)) return invalid('request_id', 'must be 1 to 64 printable ASCII characters');
    if (!isReference(cmd.reference)) {
      return invalid('reference', `must be 1 to ${REFERENCE_MAX_LENGTH} printable ASCII characters`);
    }
    if (!isAdminId(cmd.adminId)) return invalid('admin_id', 'must not be empty');

    const { balances, ledger } = this.state;
    const account = this.state.accounts.get(cmd.userId);
    const ref = account === undefined ? undefined : balances.ref(account.index, assetIndex);
    const earlier = account === undefined || requestId === undefined ? undefined : ledger.withdrawal(account.index, requestId);
    if (earlier !== undefined) {
      if (earlier.asset !== cmd.asset || earlier.amount !== cmd.amount || earlier.reference !== cmd.reference) {
        return reject('ALREADY_EXISTS', 'request_id', `request_id: "${requestId}" is already used by a withdrawal of another asset, amount or reference`);
      }
      return this.answer(cmd, ref!, earlier);
    }
    const available = ref === undefined ? 0n : balances.available(ref);
    if (cmd.amount > available) {
      return reject(
        'FAILED_PRECONDITION', 'amount',
        `amount: ${formatAmount(cmd.amount)} ${cmd.asset} is more than the ${formatAmount(available)} available (funds locked by open orders cannot be withdrawn)`,
      );
    }
    balances.withdraw(ref!, cmd.amount);
    const entry: LedgerEntryView = {
      seq: cmd.seq, timestamp: cmd.timestamp, kind: 'withdrawal', asset: cmd.asset, amount: cmd.amount,
      ...(requestId === undefined ? {} : { requestId }), adminId: cmd.adminId, reference: cmd.reference, balanceAfter: balances.available(ref!),
    };
    ledger.record(account!.index, entry);
    this.recorder.balance(ref!);
    return this.answer(cmd, ref!, entry);
  }

  private answer(cmd: WithdrawCommand, ref: number, entry: LedgerEntryView): CommandResult {
    const { balances } = this.state;
    const balance = { asset: cmd.asset, available: balances.available(ref), locked: balances.locked(ref) };
    return { ok: true, value: { kind: 'withdrawn', userId: cmd.userId, balance, entry }, events: this.recorder.finish() };
  }
}
