import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Reject, negotiatePresentationContexts } from './negotiation.ts';
import { PresentationContextResult, RejectReason, RejectResult, RejectSource } from './pdu.ts';
import { SopClass, TransferSyntax } from './uids.ts';

const proposed = [
  { id: 1, abstractSyntaxUid: SopClass.CTImageStorage, transferSyntaxUids: [TransferSyntax.JPEGLSLossless, TransferSyntax.ExplicitVRLittleEndian] },
  { id: 3, abstractSyntaxUid: SopClass.CTImageStorage, transferSyntaxUids: [TransferSyntax.JPEG2000Lossless] },
  { id: 5, abstractSyntaxUid: '1.2.3.999', transferSyntaxUids: [TransferSyntax.ImplicitVRLittleEndian] },
];

describe('presentation context negotiation', () => {
  it('accepts the first proposed transfer syntax by default', () => {
    assert.deepEqual(negotiatePresentationContexts(proposed), [
      { id: 1, result: PresentationContextResult.Acceptance, transferSyntaxUid: TransferSyntax.JPEGLSLossless },
      { id: 3, result: PresentationContextResult.Acceptance, transferSyntaxUid: TransferSyntax.JPEG2000Lossless },
      { id: 5, result: PresentationContextResult.Acceptance, transferSyntaxUid: TransferSyntax.ImplicitVRLittleEndian },
    ]);
  });

  it('keeps the proposer order among the supported transfer syntaxes and rejects the rest', () => {
    const answers = negotiatePresentationContexts(proposed, {
      abstractSyntaxes: [SopClass.CTImageStorage],
      transferSyntaxes: new Set([TransferSyntax.ExplicitVRLittleEndian, TransferSyntax.ImplicitVRLittleEndian]),
    });
    assert.deepEqual(answers, [
      { id: 1, result: PresentationContextResult.Acceptance, transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian },
      { id: 3, result: PresentationContextResult.TransferSyntaxesNotSupported, transferSyntaxUid: '' },
      { id: 5, result: PresentationContextResult.AbstractSyntaxNotSupported, transferSyntaxUid: '' },
    ]);
  });

  it('takes predicates as filters', () => {
    const answers = negotiatePresentationContexts(proposed, { abstractSyntaxes: (uid) => uid.startsWith('1.2.840.10008.5.1.4.1.1.') });
    assert.deepEqual(
      answers.map((a) => a.result),
      [PresentationContextResult.Acceptance, PresentationContextResult.Acceptance, PresentationContextResult.AbstractSyntaxNotSupported],
    );
  });

  it('builds PS3.8 rejections', () => {
    assert.deepEqual(Reject.calledAeTitleNotRecognized(), {
      accept: false,
      result: RejectResult.Permanent,
      source: RejectSource.ServiceUser,
      reason: RejectReason.CalledAeTitleNotRecognized,
    });
    assert.equal(Reject.callingAeTitleNotRecognized().reason, 3);
    assert.equal(Reject.temporaryCongestion().result, RejectResult.Transient);
    assert.equal(Reject.protocolVersionNotSupported().source, RejectSource.ServiceProviderAcse);
  });
});
