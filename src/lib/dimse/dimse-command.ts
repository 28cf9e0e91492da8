// DIMSE command sets (PS3.7 section 9.3 and E.1): group 0000 elements, always encoded Implicit VR
// Little Endian whatever transfer syntax the presentation context negotiated.

import { CommandSetError } from './errors.ts';

export const CommandField = {
  CStoreRq: 0x0001,
  CStoreRsp: 0x8001,
  CGetRq: 0x0010,
  CGetRsp: 0x8010,
  CFindRq: 0x0020,
  CFindRsp: 0x8020,
  CMoveRq: 0x0021,
  CMoveRsp: 0x8021,
  CEchoRq: 0x0030,
  CEchoRsp: 0x8030,
  NEventReportRq: 0x0100,
  NEventReportRsp: 0x8100,
  NGetRq: 0x0110,
  NGetRsp: 0x8110,
  NSetRq: 0x0120,
  NSetRsp: 0x8120,
  NActionRq: 0x0130,
  NActionRsp: 0x8130,
  NCreateRq: 0x0140,
  NCreateRsp: 0x8140,
  NDeleteRq: 0x0150,
  NDeleteRsp: 0x8150,
  CCancelRq: 0x0fff,
} as const;

// 'CStoreRq' -> 'C-STORE-RQ', 'NEventReportRsp' -> 'N-EVENT-REPORT-RSP'
const commandNames = new Map<number, string>(
  Object.entries(CommandField).map(([name, value]) => [
    value,
    name
      .replace(/([a-z])([A-Z])/g, '$1-$2')
      .replace(/^([CN])([A-Z])/, '$1-$2')
      .toUpperCase(),
  ]),
);

/** "C-STORE-RQ" style name of a command field value. */
export function commandFieldName(commandField: number): string {
  return commandNames.get(commandField) ?? `command 0x${commandField.toString(16).padStart(4, '0')}`;
}

export function isResponseCommand(commandField: number): boolean {
  return (commandField & 0x8000) !== 0;
}

export const Priority = { Medium: 0x0000, High: 0x0001, Low: 0x0002 } as const;

/** Value of Command Data Set Type meaning "no data set follows"; anything else means one does. */
export const NO_DATA_SET = 0x0101;

/** A decoded or to-be-encoded command set. Field names follow the PS3.7 attribute names. */
export interface CommandSet {
  commandField: number;
  hasDataSet: boolean;
  messageId?: number;
  messageIdBeingRespondedTo?: number;
  affectedSopClassUid?: string;
  requestedSopClassUid?: string;
  affectedSopInstanceUid?: string;
  requestedSopInstanceUid?: string;
  moveDestination?: string;
  priority?: number;
  status?: number;
  offendingElements?: number[];
  errorComment?: string;
  errorId?: number;
  eventTypeId?: number;
  attributeIdentifierList?: number[];
  actionTypeId?: number;
  remainingSuboperations?: number;
  completedSuboperations?: number;
  failedSuboperations?: number;
  warningSuboperations?: number;
  moveOriginatorAeTitle?: string;
  moveOriginatorMessageId?: number;
}

type ValueKind = 'UI' | 'AE' | 'LO' | 'US' | 'UL' | 'AT';

interface FieldSpec {
  tag: number;
  key: Exclude<keyof CommandSet, 'hasDataSet'> | 'dataSetType';
  kind: ValueKind;
}

// In ascending tag order: the encoder writes them in this order, as PS3.5 7.1 requires.
const fields: readonly FieldSpec[] = [
  { tag: 0x00000002, key: 'affectedSopClassUid', kind: 'UI' },
  { tag: 0x00000003, key: 'requestedSopClassUid', kind: 'UI' },
  { tag: 0x00000100, key: 'commandField', kind: 'US' },
  { tag: 0x00000110, key: 'messageId', kind: 'US' },
  { tag: 0x00000120, key: 'messageIdBeingRespondedTo', kind: 'US' },
  { tag: 0x00000600, key: 'moveDestination', kind: 'AE' },
  { tag: 0x00000700, key: 'priority', kind: 'US' },
  { tag: 0x00000800, key: 'dataSetType', kind: 'US' },
  { tag: 0x00000900, key: 'status', kind: 'US' },
  { tag: 0x00000901, key: 'offendingElements', kind: 'AT' },
  { tag: 0x00000902, key: 'errorComment', kind: 'LO' },
  { tag: 0x00000903, key: 'errorId', kind: 'US' },
  { tag: 0x00001000, key: 'affectedSopInstanceUid', kind: 'UI' },
  { tag: 0x00001001, key: 'requestedSopInstanceUid', kind: 'UI' },
  { tag: 0x00001002, key: 'eventTypeId', kind: 'US' },
  { tag: 0x00001005, key: 'attributeIdentifierList', kind: 'AT' },
  { tag: 0x00001008, key: 'actionTypeId', kind: 'US' },
  { tag: 0x00001020, key: 'remainingSuboperations', kind: 'US' },
  { tag: 0x00001021, key: 'completedSuboperations', kind: 'US' },
  { tag: 0x00001022, key: 'failedSuboperations', kind: 'US' },
  { tag: 0x00001023, key: 'warningSuboperations', kind: 'US' },
  { tag: 0x00001030, key: 'moveOriginatorAeTitle', kind: 'AE' },
  { tag: 0x00001031, key: 'moveOriginatorMessageId', kind: 'US' },
];
const fieldsByTag = new Map(fields.map((f) => [f.tag, f]));

function textValue(kind: ValueKind, text: string): Buffer {
  const bytes = Buffer.from(text, 'latin1');
  if (bytes.length % 2 === 0) return bytes;
  // UIDs pad with NUL, other strings with a space (PS3.5 6.2).
  return Buffer.concat([bytes, Buffer.from([kind === 'UI' ? 0x00 : 0x20])]);
}

function encodeValue(spec: FieldSpec, value: unknown): Buffer {
  switch (spec.kind) {
    case 'UI':
    case 'AE':
    case 'LO':
      return textValue(spec.kind, String(value));
    case 'US': {
      const b = Buffer.allocUnsafe(2);
      b.writeUInt16LE(Number(value) & 0xffff, 0);
      return b;
    }
    case 'UL': {
      const b = Buffer.allocUnsafe(4);
      b.writeUInt32LE(Number(value) >>> 0, 0);
      return b;
    }
    case 'AT': {
      const tags = value as number[];
      const b = Buffer.allocUnsafe(tags.length * 4);
      tags.forEach((tag, i) => {
        b.writeUInt16LE((tag >>> 16) & 0xffff, i * 4);
        b.writeUInt16LE(tag & 0xffff, i * 4 + 2);
      });
      return b;
    }
  }
}

/** Encodes a command set (with its Command Group Length) in Implicit VR Little Endian. */
export function encodeCommandSet(command: CommandSet): Buffer {
  const parts: Buffer[] = [];
  let length = 0;
  const source = command as unknown as Record<string, unknown>;
  for (const spec of fields) {
    const value = spec.key === 'dataSetType' ? (command.hasDataSet ? 0x0000 : NO_DATA_SET) : source[spec.key];
    if (value === undefined) continue;
    const encoded = encodeValue(spec, value);
    const header = Buffer.allocUnsafe(8);
    header.writeUInt16LE(0x0000, 0);
    header.writeUInt16LE(spec.tag & 0xffff, 2);
    header.writeUInt32LE(encoded.length, 4);
    parts.push(header, encoded);
    length += 8 + encoded.length;
  }
  const groupLength = Buffer.allocUnsafe(12);
  groupLength.writeUInt32LE(0x00000000, 0);
  groupLength.writeUInt32LE(4, 4);
  groupLength.writeUInt32LE(length, 8);
  return Buffer.concat([groupLength, ...parts], 12 + length);
}

/** Decodes an Implicit VR LE command set. Unknown (e.g. retired) group 0000 elements are skipped. */
export function decodeCommandSet(buf: Buffer): CommandSet {
  const out: Record<string, unknown> = {};
  let dataSetType: number | undefined;
  let offset = 0;
  while (offset < buf.length) {
    if (buf.length - offset < 8) throw new CommandSetError('truncated command element header');
    const group = buf.readUInt16LE(offset);
    const element = buf.readUInt16LE(offset + 2);
    const length = buf.readUInt32LE(offset + 4);
    offset += 8;
    if (length === 0xffffffff || offset + length > buf.length) throw new CommandSetError(`command element (${group.toString(16)},${element.toString(16)}) overruns the command set`);
    const value = buf.subarray(offset, offset + length);
    offset += length;
    if (group !== 0x0000) throw new CommandSetError(`element of group ${group.toString(16)} in a command set`);
    const spec = fieldsByTag.get(element);
    if (!spec) continue;
    let decoded: unknown;
    switch (spec.kind) {
      case 'UI':
      case 'AE':
      case 'LO':
        decoded = value.toString('latin1').replace(/[\0 ]+$/, '').replace(/^ +/, '');
        break;
      case 'US':
        if (length !== 2) throw new CommandSetError(`element (0000,${element.toString(16)}) must be 2 bytes`);
        decoded = value.readUInt16LE(0);
        break;
      case 'UL':
        if (length !== 4) throw new CommandSetError(`element (0000,${element.toString(16)}) must be 4 bytes`);
        decoded = value.readUInt32LE(0);
        break;
      case 'AT': {
        if (length % 4 !== 0) throw new CommandSetError(`element (0000,${element.toString(16)}) is not a list of tags`);
        const tags: number[] = [];
        for (let i = 0; i < length; i += 4) tags.push(((value.readUInt16LE(i) << 16) | value.readUInt16LE(i + 2)) >>> 0);
        decoded = tags;
        break;
      }
    }
    if (spec.key === 'dataSetType') dataSetType = decoded as number;
    else out[spec.key] = decoded;
  }
  if (typeof out.commandField !== 'number') throw new CommandSetError('command set without Command Field');
  if (dataSetType === undefined) throw new CommandSetError('command set without Command Data Set Type');
  return { ...(out as Omit<CommandSet, 'hasDataSet'>), hasDataSet: dataSetType !== NO_DATA_SET };
}

// ---------------------------------------------------------------------------------------------
// Builders for the requests and responses this library sends.

export function createCEchoRequest(messageId: number): CommandSet {
  return { commandField: CommandField.CEchoRq, messageId, affectedSopClassUid: '1.2.840.10008.1.1', hasDataSet: false };
}

export function createCStoreRequest(args: {
  messageId: number;
  sopClassUid: string;
  sopInstanceUid: string;
  priority?: number;
  moveOriginatorAeTitle?: string;
  moveOriginatorMessageId?: number;
}): CommandSet {
  const command: CommandSet = {
    commandField: CommandField.CStoreRq,
    messageId: args.messageId,
    affectedSopClassUid: args.sopClassUid,
    affectedSopInstanceUid: args.sopInstanceUid,
    priority: args.priority ?? Priority.Medium,
    hasDataSet: true,
  };
  if (args.moveOriginatorAeTitle !== undefined) command.moveOriginatorAeTitle = args.moveOriginatorAeTitle;
  if (args.moveOriginatorMessageId !== undefined) command.moveOriginatorMessageId = args.moveOriginatorMessageId;
  return command;
}

export function createCFindRequest(args: { messageId: number; sopClassUid: string; priority?: number }): CommandSet {
  return { commandField: CommandField.CFindRq, messageId: args.messageId, affectedSopClassUid: args.sopClassUid, priority: args.priority ?? Priority.Medium, hasDataSet: true };
}

export function createCMoveRequest(args: { messageId: number; sopClassUid: string; moveDestination: string; priority?: number }): CommandSet {
  return {
    commandField: CommandField.CMoveRq,
    messageId: args.messageId,
    affectedSopClassUid: args.sopClassUid,
    priority: args.priority ?? Priority.Medium,
    moveDestination: args.moveDestination,
    hasDataSet: true,
  };
}

export function createCGetRequest(args: { messageId: number; sopClassUid: string; priority?: number }): CommandSet {
  return { commandField: CommandField.CGetRq, messageId: args.messageId, affectedSopClassUid: args.sopClassUid, priority: args.priority ?? Priority.Medium, hasDataSet: true };
}

export function createCCancelRequest(messageIdBeingRespondedTo: number): CommandSet {
  return { commandField: CommandField.CCancelRq, messageIdBeingRespondedTo, hasDataSet: false };
}

/** A response to `request`: same SOP class (and instance for C-STORE), the given status. */
export function createResponse(
  request: CommandSet,
  status: number,
  extra: Partial<Omit<CommandSet, 'commandField' | 'messageIdBeingRespondedTo' | 'status'>> = {},
): CommandSet {
  const response: CommandSet = {
    commandField: (request.commandField | 0x8000) & 0xffff,
    messageIdBeingRespondedTo: request.messageId ?? 0,
    status,
    hasDataSet: false,
  };
  const sopClass = request.affectedSopClassUid ?? request.requestedSopClassUid;
  if (sopClass !== undefined) response.affectedSopClassUid = sopClass;
  if (request.commandField === CommandField.CStoreRq && request.affectedSopInstanceUid !== undefined) {
    response.affectedSopInstanceUid = request.affectedSopInstanceUid;
  }
  return { ...response, ...extra };
}
