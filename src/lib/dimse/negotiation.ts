// What an SCP application sees of an association request and how it answers: accept with a
// decision per presentation context, or reject with a PS3.8 result/source/reason. Helpers cover
// the common policy "accept these abstract syntaxes with the first proposed transfer syntax we
// support" (an archive should keep what the sender proposed first, e.g. its compressed form).

import {
  type ExtendedNegotiation,
  type PresentationContextAnswer,
  type ProposedPresentationContext,
  type RoleSelection,
  type UserIdentity,
  PresentationContextResult,
  RejectReason,
  RejectResult,
  RejectSource,
} from './pdu.ts';

export interface AssociationRequestInfo {
  callingAeTitle: string;
  calledAeTitle: string;
  remoteAddress: string;
  remotePort: number;
  applicationContextName: string;
  proposedContexts: readonly ProposedPresentationContext[];
  /** The requestor's maximum receive PDU length (0 = unlimited). */
  peerMaxPduLength: number;
  peerImplementationClassUid: string;
  peerImplementationVersionName: string | undefined;
  asyncOperations: { maxInvoked: number; maxPerformed: number } | undefined;
  roleSelections: readonly RoleSelection[];
  extendedNegotiations: readonly ExtendedNegotiation[];
  userIdentity: UserIdentity | undefined;
}

export interface AcceptAssociation {
  accept: true;
  /** One answer per proposed context; a context left out is answered "user rejection". */
  contexts: readonly PresentationContextAnswer[];
  /** Role selections to answer with; by default the proposed ones are echoed (accepted). */
  roleSelections?: readonly RoleSelection[];
  /** Server response for a user identity request that asked for a positive response. */
  userIdentityResponse?: Buffer;
}

export interface RejectAssociation {
  accept: false;
  /** RejectResult: 1 permanent, 2 transient. */
  result: number;
  /** RejectSource. */
  source: number;
  /** RejectReason, meaning depends on the source. */
  reason: number;
}

export type AssociationDecision = AcceptAssociation | RejectAssociation;

export const Reject = {
  noReasonGiven: (): RejectAssociation => ({ accept: false, result: RejectResult.Permanent, source: RejectSource.ServiceUser, reason: RejectReason.NoReasonGiven }),
  calledAeTitleNotRecognized: (): RejectAssociation => ({
    accept: false,
    result: RejectResult.Permanent,
    source: RejectSource.ServiceUser,
    reason: RejectReason.CalledAeTitleNotRecognized,
  }),
  callingAeTitleNotRecognized: (): RejectAssociation => ({
    accept: false,
    result: RejectResult.Permanent,
    source: RejectSource.ServiceUser,
    reason: RejectReason.CallingAeTitleNotRecognized,
  }),
  applicationContextNotSupported: (): RejectAssociation => ({
    accept: false,
    result: RejectResult.Permanent,
    source: RejectSource.ServiceUser,
    reason: RejectReason.ApplicationContextNameNotSupported,
  }),
  protocolVersionNotSupported: (): RejectAssociation => ({
    accept: false,
    result: RejectResult.Permanent,
    source: RejectSource.ServiceProviderAcse,
    reason: RejectReason.ProtocolVersionNotSupported,
  }),
  temporaryCongestion: (): RejectAssociation => ({
    accept: false,
    result: RejectResult.Transient,
    source: RejectSource.ServiceProviderPresentation,
    reason: RejectReason.TemporaryCongestion,
  }),
  localLimitExceeded: (): RejectAssociation => ({
    accept: false,
    result: RejectResult.Transient,
    source: RejectSource.ServiceProviderPresentation,
    reason: RejectReason.LocalLimitExceeded,
  }),
} as const;

export type UidFilter = ReadonlySet<string> | readonly string[] | ((uid: string) => boolean);

function matches(filter: UidFilter | undefined, uid: string): boolean {
  if (filter === undefined) return true;
  if (typeof filter === 'function') return filter(uid);
  if (Array.isArray(filter)) return filter.includes(uid);
  return (filter as ReadonlySet<string>).has(uid);
}

export interface ContextNegotiationPolicy {
  /** Abstract syntaxes (SOP classes) to accept; default: all. */
  abstractSyntaxes?: UidFilter;
  /** Transfer syntaxes we support; the requestor's first proposed one in this set wins. Default: any. */
  transferSyntaxes?: UidFilter;
}

/** Answers each proposed context: accept with the first proposed supported transfer syntax, or reject. */
export function negotiatePresentationContexts(proposed: readonly ProposedPresentationContext[], policy: ContextNegotiationPolicy = {}): PresentationContextAnswer[] {
  return proposed.map((pc) => {
    if (pc.abstractSyntaxUid === '' || !matches(policy.abstractSyntaxes, pc.abstractSyntaxUid)) {
      return { id: pc.id, result: PresentationContextResult.AbstractSyntaxNotSupported, transferSyntaxUid: '' };
    }
    const chosen = pc.transferSyntaxUids.find((ts) => ts !== '' && matches(policy.transferSyntaxes, ts));
    if (chosen === undefined) return { id: pc.id, result: PresentationContextResult.TransferSyntaxesNotSupported, transferSyntaxUid: '' };
    return { id: pc.id, result: PresentationContextResult.Acceptance, transferSyntaxUid: chosen };
  });
}

/** Accepts the association, negotiating the contexts with `policy`. */
export function acceptAssociation(info: AssociationRequestInfo, policy: ContextNegotiationPolicy = {}): AcceptAssociation {
  return { accept: true, contexts: negotiatePresentationContexts(info.proposedContexts, policy) };
}
