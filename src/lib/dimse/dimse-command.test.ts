import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type CommandSet,
  CommandField,
  Priority,
  commandFieldName,
  createCCancelRequest,
  createCEchoRequest,
  createCFindRequest,
  createCGetRequest,
  createCMoveRequest,
  createCStoreRequest,
  createResponse,
  decodeCommandSet,
  encodeCommandSet,
} from './dimse-command.ts';
import { CommandSetError } from './errors.ts';
import { Status, statusCategory, statusName } from './status.ts';

function roundTrip(command: CommandSet): CommandSet {
  return decodeCommandSet(encodeCommandSet(command));
}

describe('DIMSE command sets', () => {
  it('encodes C-ECHO-RQ exactly as PS3.7 prescribes (Implicit VR LE, group length first)', () => {
    const bytes = encodeCommandSet(createCEchoRequest(7));
    const expected = Buffer.concat([
      Buffer.from('0000000004000000', 'hex'),
      Buffer.from('38000000', 'hex'), // group length 56
      Buffer.from('0000020012000000', 'hex'),
      Buffer.from('1.2.840.10008.1.1\0', 'latin1'), // odd-length UID padded with NUL
      Buffer.from('00000001020000003000', 'hex'), // command field 0x0030
      Buffer.from('00001001020000000700', 'hex'), // message id 7
      Buffer.from('00000008020000000101', 'hex'), // no data set
    ]);
    assert.deepEqual(bytes, expected);
  });

  it('round trips the requests', () => {
    const requests: CommandSet[] = [
      createCEchoRequest(1),
      createCStoreRequest({ messageId: 2, sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid: '1.2.3.4.5', priority: Priority.High, moveOriginatorAeTitle: 'MOVER', moveOriginatorMessageId: 99 }),
      createCFindRequest({ messageId: 3, sopClassUid: '1.2.840.10008.5.1.4.1.2.2.1' }),
      createCMoveRequest({ messageId: 4, sopClassUid: '1.2.840.10008.5.1.4.1.2.2.2', moveDestination: 'DEST_AE', priority: Priority.Low }),
      createCGetRequest({ messageId: 5, sopClassUid: '1.2.840.10008.5.1.4.1.2.2.3' }),
      createCCancelRequest(4),
    ];
    for (const request of requests) assert.deepEqual(roundTrip(request), request, commandFieldName(request.commandField));
  });

  it('round trips responses with status, comment, counts and offending elements', () => {
    const store = createCStoreRequest({ messageId: 2, sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid: '1.2.3.4.5' });
    const storeRsp = createResponse(store, Status.OutOfResources, { errorComment: 'disk full', offendingElements: [0x00100010, 0x7fe00010] });
    assert.deepEqual(roundTrip(storeRsp), storeRsp);
    assert.equal(storeRsp.commandField, CommandField.CStoreRsp);
    assert.equal(storeRsp.affectedSopInstanceUid, '1.2.3.4.5');
    assert.equal(storeRsp.messageIdBeingRespondedTo, 2);

    const move = createCMoveRequest({ messageId: 4, sopClassUid: '1.2.840.10008.5.1.4.1.2.2.2', moveDestination: 'DEST' });
    const pending = createResponse(move, Status.Pending, { remainingSuboperations: 7, completedSuboperations: 3, failedSuboperations: 0, warningSuboperations: 1 });
    assert.deepEqual(roundTrip(pending), pending);
    const findPending = createResponse(createCFindRequest({ messageId: 9, sopClassUid: '1.2.840.10008.5.1.4.1.2.2.1' }), Status.Pending, { hasDataSet: true });
    assert.equal(roundTrip(findPending).hasDataSet, true);
    assert.equal(roundTrip(findPending).commandField, CommandField.CFindRsp);
  });

  it('skips unknown group 0000 elements and trims padding', () => {
    const base = encodeCommandSet(createCEchoRequest(3));
    // Append a retired element (0000,4000), which decoders must skip.
    const retired = Buffer.from('000000400400000001020304', 'hex');
    const decoded = decodeCommandSet(Buffer.concat([base, retired]));
    assert.equal(decoded.messageId, 3);
    assert.equal(decoded.affectedSopClassUid, '1.2.840.10008.1.1');
  });

  it('rejects malformed command sets', () => {
    assert.throws(() => decodeCommandSet(Buffer.from('00000000040000', 'hex')), CommandSetError);
    assert.throws(() => decodeCommandSet(Buffer.from('000000000400000038000000', 'hex')), CommandSetError, 'no command field');
    assert.throws(() => decodeCommandSet(Buffer.from('0800100002000000', 'hex')), CommandSetError, 'wrong group');
    assert.throws(() => decodeCommandSet(Buffer.from('00000001ff0000003000', 'hex')), CommandSetError, 'overrun');
  });

  it('names command fields', () => {
    assert.equal(commandFieldName(CommandField.CStoreRq), 'C-STORE-RQ');
    assert.equal(commandFieldName(CommandField.NEventReportRsp), 'N-EVENT-REPORT-RSP');
    assert.equal(commandFieldName(CommandField.CCancelRq), 'C-CANCEL-RQ');
    assert.match(commandFieldName(0x1234), /0x1234/);
  });
});

describe('status codes', () => {
  it('classifies statuses', () => {
    assert.equal(statusCategory(Status.Success), 'success');
    assert.equal(statusCategory(Status.Pending), 'pending');
    assert.equal(statusCategory(Status.PendingWarning), 'pending');
    assert.equal(statusCategory(Status.Cancel), 'cancel');
    assert.equal(statusCategory(Status.CoercionOfDataElements), 'warning');
    assert.equal(statusCategory(0xb123), 'warning');
    assert.equal(statusCategory(Status.OutOfResources), 'failure');
    assert.equal(statusCategory(Status.UnableToProcess), 'failure');
    assert.equal(statusCategory(Status.MoveDestinationUnknown), 'failure');
  });

  it('names statuses, with families for ranges', () => {
    assert.equal(statusName(0x0000), 'Success');
    assert.equal(statusName(0xa801), 'Refused: move destination unknown');
    assert.match(statusName(0xa7ff), /out of resources/);
    assert.match(statusName(0xc123), /cannot understand/);
    assert.match(statusName(0x1234), /Unknown status 0x1234/);
  });
});
