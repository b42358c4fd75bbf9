/** A journal record's payload does not describe a command this version understands. */
export class CommandDecodeError extends Error {
  override readonly name = 'CommandDecodeError';
}
