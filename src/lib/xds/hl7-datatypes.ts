// HL7 v2 data types as XDS metadata encodes them (ITI TF-3 Table 4.2.3.1.7-2):
// CX (patient ID `id^^^&oid&ISO`), CXi (reference IDs), HD, XCN (persons), XON (organisations).
// Component separator '^', sub-component '&'; values are kept as sent (no HL7 escape decoding,
// because XDS compares them as strings).

/** `[1-9][0-9]*(\.(0|[1-9][0-9]*))+` per IPF OIDValidator, plus the ITU-T root arc 0; at most 64 characters. */
export function isOid(value: string): boolean {
  return value.length <= 64 && /^(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))+$/.test(value);
}

export interface HierarchicDesignator {
  readonly namespaceId: string;
  readonly universalId: string;
  readonly universalIdType: string;
}

export function parseHd(value: string): HierarchicDesignator {
  const [namespaceId = '', universalId = '', universalIdType = ''] = value.split('&');
  return { namespaceId, universalId, universalIdType };
}

export interface Cx {
  /** CX.1 */
  readonly id: string;
  /** CX.4 */
  readonly assigningAuthority: HierarchicDesignator;
  /** Every component as sent, for validation (CX.2, CX.3, CX.5 ...). */
  readonly components: readonly string[];
}

export function parseCx(value: string): Cx {
  const components = value.split('^');
  return { id: components[0] ?? '', assigningAuthority: parseHd(components[3] ?? ''), components };
}

/** A patient ID in the only form XDS allows: `id^^^&oid&ISO`. */
export function formatPatientId(id: string, assigningAuthorityOid: string): string {
  return `${id}^^^&${assigningAuthorityOid}&ISO`;
}

export interface PatientId {
  readonly id: string;
  readonly assigningAuthorityOid: string;
}

/**
 * Checks an XDS patient ID (IPF CXValidator/HDValidator, ihe-protocols.md §3.2): only CX.1 and
 * CX.4; CX.4 with no namespace ID, an OID universal ID and type ISO. Returns the reason when invalid.
 */
export function patientIdProblem(value: string): string | undefined {
  const cx = parseCx(value);
  if (cx.id === '') return 'CX.1 (ID number) is empty';
  const extra = cx.components.findIndex((c, i) => i !== 0 && i !== 3 && c !== '');
  if (extra !== -1) return `only CX.1 and CX.4 may be given, CX.${extra + 1} is not empty`;
  if (cx.components.length < 4 || cx.components[3] === '') return 'CX.4 (assigning authority) is missing';
  const aa = cx.assigningAuthority;
  if (aa.namespaceId !== '') return 'the assigning authority must not have a namespace ID (use &OID&ISO)';
  if (aa.universalIdType !== 'ISO') return "the assigning authority's universal ID type must be ISO";
  if (!isOid(aa.universalId)) return `the assigning authority '${aa.universalId}' is not an OID`;
  return undefined;
}

export function parsePatientId(value: string): PatientId | undefined {
  if (patientIdProblem(value) !== undefined) return undefined;
  const cx = parseCx(value);
  return { id: cx.id, assigningAuthorityOid: cx.assigningAuthority.universalId };
}

/** CXi used in referenceIdList: `value^^^&oid&ISO^type` (e.g. type urn:ihe:iti:xds:2013:accession). */
export function formatReferenceId(value: string, assigningAuthorityOid: string | undefined, type: string): string {
  return `${value}^^^${assigningAuthorityOid ? `&${assigningAuthorityOid}&ISO` : ''}^${type}`;
}

export interface ReferenceId {
  readonly value: string;
  readonly assigningAuthority: HierarchicDesignator;
  readonly type: string;
}

export function parseReferenceId(cxi: string): ReferenceId {
  const c = cxi.split('^');
  return { value: c[0] ?? '', assigningAuthority: parseHd(c[3] ?? ''), type: c[4] ?? '' };
}

/** XCN (authorPerson, legalAuthenticator). */
export interface Person {
  readonly id: string;
  readonly familyName: string;
  readonly givenName: string;
  readonly middleName: string;
  readonly suffix: string;
  readonly prefix: string;
  readonly assigningAuthority: HierarchicDesignator;
}

export function parseXcn(value: string): Person {
  const c = value.split('^');
  return {
    id: c[0] ?? '',
    familyName: c[1] ?? '',
    givenName: c[2] ?? '',
    middleName: c[3] ?? '',
    suffix: c[4] ?? '',
    prefix: c[5] ?? '',
    assigningAuthority: parseHd(c[8] ?? ''),
  };
}

export function formatXcn(p: Partial<Person>): string {
  const aa = p.assigningAuthority;
  const parts = [p.id ?? '', p.familyName ?? '', p.givenName ?? '', p.middleName ?? '', p.suffix ?? '', p.prefix ?? '', '', '', aa ? `${aa.namespaceId}&${aa.universalId}&${aa.universalIdType}` : ''];
  while (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  return parts.join('^');
}

/** IPF PERSON_MISSING_NAME_AND_ID / PERSON_HD_MISSING. */
export function personProblem(value: string): string | undefined {
  const p = parseXcn(value);
  if (p.id === '' && p.familyName === '' && p.givenName === '') return 'a person needs an ID or a name';
  if (p.id !== '' && p.assigningAuthority.universalId === '' && p.assigningAuthority.namespaceId === '') {
    return 'a person ID needs an assigning authority (XCN.9)';
  }
  return undefined;
}

/** XON (authorInstitution): `name^^^^^&oid&ISO^^^^id`. */
export interface Organization {
  readonly name: string;
  readonly assigningAuthority: HierarchicDesignator;
  readonly id: string;
}

export function parseXon(value: string): Organization {
  const c = value.split('^');
  return { name: c[0] ?? '', assigningAuthority: parseHd(c[5] ?? ''), id: c[9] ?? '' };
}

export function formatXon(name: string, id?: string, assigningAuthorityOid?: string): string {
  if (!id) return name;
  return `${name}^^^^^${assigningAuthorityOid ? `&${assigningAuthorityOid}&ISO` : ''}^^^^${id}`;
}

export function organizationProblem(value: string): string | undefined {
  return parseXon(value).name === '' ? 'an organisation needs a name (XON.1)' : undefined;
}
