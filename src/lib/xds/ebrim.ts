// ebRIM 3.0 registry objects as they appear on the wire (RegistryObjectList content):
// a faithful, product-agnostic model plus reader and writer. metadata.ts maps these to the
// XDS objects (DocumentEntry, SubmissionSet, Folder, Association).
import { attribute, childElements, firstChild, ownText, type XmlElement } from '../soap/safe-xml.ts';
import type { XmlWriter } from '../soap/xml-writer.ts';
import { RIM_NS } from './vocabulary.ts';

export interface Slot {
  readonly name: string;
  readonly values: readonly string[];
}

export interface LocalizedString {
  readonly value: string;
  readonly lang?: string;
  readonly charset?: string;
}

interface IdentifiableCommon {
  readonly id: string;
  readonly lid?: string;
  readonly home?: string;
  readonly objectType?: string;
  readonly status?: string;
  readonly name: readonly LocalizedString[];
  readonly description: readonly LocalizedString[];
  readonly versionName?: string;
  readonly slots: readonly Slot[];
}

export interface Classification extends IdentifiableCommon {
  readonly kind: 'Classification';
  readonly classificationScheme?: string;
  readonly classificationNode?: string;
  readonly classifiedObject: string;
  readonly nodeRepresentation?: string;
}

export interface ExternalIdentifier extends IdentifiableCommon {
  readonly kind: 'ExternalIdentifier';
  readonly identificationScheme: string;
  readonly value: string;
  readonly registryObject: string;
}

interface RegistryObjectCommon extends IdentifiableCommon {
  readonly classifications: readonly Classification[];
  readonly externalIdentifiers: readonly ExternalIdentifier[];
}

export interface ExtrinsicObject extends RegistryObjectCommon {
  readonly kind: 'ExtrinsicObject';
  readonly mimeType?: string;
  readonly isOpaque?: string;
}

export interface RegistryPackage extends RegistryObjectCommon {
  readonly kind: 'RegistryPackage';
}

export interface Association extends RegistryObjectCommon {
  readonly kind: 'Association';
  readonly associationType: string;
  readonly sourceObject: string;
  readonly targetObject: string;
}

export interface ObjectRef {
  readonly kind: 'ObjectRef';
  readonly id: string;
  readonly home?: string;
}

export type RegistryObject = ExtrinsicObject | RegistryPackage | Association | Classification | ExternalIdentifier | ObjectRef;

export interface RegistryObjectListContent {
  readonly objects: readonly RegistryObject[];
  /** Local names of rim elements that are not registry objects XDS uses (reported, not fatal). */
  readonly ignoredElements: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// Reading

/** Drops undefined properties, so objects compare equal whether a field was absent or never set. */
export function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k];
  return o;
}

function readInternationalString(parent: XmlElement, local: 'Name' | 'Description'): LocalizedString[] {
  const holder = firstChild(parent, RIM_NS, local);
  if (!holder) return [];
  return childElements(holder, RIM_NS, 'LocalizedString').map((ls) =>
    compact({
      value: attribute(ls, 'value') ?? '',
      lang: attribute(ls, 'lang', 'http://www.w3.org/XML/1998/namespace'),
      charset: attribute(ls, 'charset'),
    }),
  );
}

export function readSlots(parent: XmlElement): Slot[] {
  return childElements(parent, RIM_NS, 'Slot').map((slot) => {
    const valueList = firstChild(slot, RIM_NS, 'ValueList');
    const values = valueList ? childElements(valueList, RIM_NS, 'Value').map((v) => ownText(v)) : [];
    return { name: attribute(slot, 'name') ?? '', values };
  });
}

function readCommon(element: XmlElement): IdentifiableCommon {
  const versionInfo = firstChild(element, RIM_NS, 'VersionInfo');
  return compact({
    id: attribute(element, 'id') ?? '',
    lid: attribute(element, 'lid'),
    home: attribute(element, 'home'),
    objectType: attribute(element, 'objectType'),
    status: attribute(element, 'status'),
    name: readInternationalString(element, 'Name'),
    description: readInternationalString(element, 'Description'),
    versionName: versionInfo ? attribute(versionInfo, 'versionName') : undefined,
    slots: readSlots(element),
  });
}

export function readClassification(element: XmlElement): Classification {
  return compact({
    kind: 'Classification' as const,
    ...readCommon(element),
    classificationScheme: attribute(element, 'classificationScheme'),
    classificationNode: attribute(element, 'classificationNode'),
    classifiedObject: attribute(element, 'classifiedObject') ?? '',
    nodeRepresentation: attribute(element, 'nodeRepresentation'),
  });
}

export function readExternalIdentifier(element: XmlElement): ExternalIdentifier {
  return {
    kind: 'ExternalIdentifier',
    ...readCommon(element),
    identificationScheme: attribute(element, 'identificationScheme') ?? '',
    value: attribute(element, 'value') ?? '',
    registryObject: attribute(element, 'registryObject') ?? '',
  };
}

function readRegistryObjectCommon(element: XmlElement): RegistryObjectCommon {
  return {
    ...readCommon(element),
    classifications: childElements(element, RIM_NS, 'Classification').map(readClassification),
    externalIdentifiers: childElements(element, RIM_NS, 'ExternalIdentifier').map(readExternalIdentifier),
  };
}

/** Reads the children of a rim:RegistryObjectList (namespace-exact, any prefix). */
export function readRegistryObjectList(list: XmlElement): RegistryObjectListContent {
  const objects: RegistryObject[] = [];
  const ignoredElements: string[] = [];
  for (const e of childElements(list)) {
    if (e.ns !== RIM_NS) {
      ignoredElements.push(`{${e.ns}}${e.local}`);
      continue;
    }
    switch (e.local) {
      case 'ExtrinsicObject':
        objects.push(compact({ kind: 'ExtrinsicObject' as const, ...readRegistryObjectCommon(e), mimeType: attribute(e, 'mimeType'), isOpaque: attribute(e, 'isOpaque') }));
        break;
      case 'RegistryPackage':
        objects.push({ kind: 'RegistryPackage', ...readRegistryObjectCommon(e) });
        break;
      case 'Association':
        objects.push({
          kind: 'Association',
          ...readRegistryObjectCommon(e),
          associationType: attribute(e, 'associationType') ?? '',
          sourceObject: attribute(e, 'sourceObject') ?? '',
          targetObject: attribute(e, 'targetObject') ?? '',
        });
        break;
      case 'Classification':
        objects.push(readClassification(e));
        break;
      case 'ExternalIdentifier':
        objects.push(readExternalIdentifier(e));
        break;
      case 'ObjectRef':
        objects.push(compact({ kind: 'ObjectRef' as const, id: attribute(e, 'id') ?? '', home: attribute(e, 'home') }));
        break;
      default:
        ignoredElements.push(e.local);
    }
  }
  return { objects, ignoredElements };
}

// ---------------------------------------------------------------------------------------------
// Writing (element order of the ebRIM 3.0 schema: Slot*, Name?, Description?, VersionInfo?,
// Classification*, ExternalIdentifier*). Elements use the prefix `rim`, which the caller declares.

function writeInternationalString(w: XmlWriter, local: 'Name' | 'Description', values: readonly LocalizedString[]): void {
  if (values.length === 0) return;
  w.start(`rim:${local}`);
  for (const v of values) w.leaf('rim:LocalizedString', { 'xml:lang': v.lang, charset: v.charset, value: v.value });
  w.end();
}

export function writeSlots(w: XmlWriter, slots: readonly Slot[]): void {
  for (const slot of slots) {
    w.start('rim:Slot', { name: slot.name }).start('rim:ValueList');
    for (const v of slot.values) w.leaf('rim:Value', undefined, v);
    w.end().end();
  }
}

function writeBody(w: XmlWriter, o: IdentifiableCommon & Partial<Pick<RegistryObjectCommon, 'classifications' | 'externalIdentifiers'>>): void {
  writeSlots(w, o.slots);
  writeInternationalString(w, 'Name', o.name);
  writeInternationalString(w, 'Description', o.description);
  if (o.versionName !== undefined) w.leaf('rim:VersionInfo', { versionName: o.versionName });
  for (const c of o.classifications ?? []) writeRegistryObject(w, c);
  for (const x of o.externalIdentifiers ?? []) writeRegistryObject(w, x);
}

function commonAttributes(o: IdentifiableCommon): Record<string, string | undefined> {
  return { id: o.id, lid: o.lid, home: o.home, objectType: o.objectType, status: o.status };
}

export function writeRegistryObject(w: XmlWriter, o: RegistryObject): void {
  switch (o.kind) {
    case 'ObjectRef':
      w.leaf('rim:ObjectRef', { id: o.id, home: o.home });
      return;
    case 'ExtrinsicObject':
      w.start('rim:ExtrinsicObject', { ...commonAttributes(o), mimeType: o.mimeType, isOpaque: o.isOpaque });
      break;
    case 'RegistryPackage':
      w.start('rim:RegistryPackage', commonAttributes(o));
      break;
    case 'Association':
      w.start('rim:Association', { ...commonAttributes(o), associationType: o.associationType, sourceObject: o.sourceObject, targetObject: o.targetObject });
      break;
    case 'Classification':
      w.start('rim:Classification', {
        ...commonAttributes(o),
        classificationScheme: o.classificationScheme,
        classificationNode: o.classificationNode,
        classifiedObject: o.classifiedObject,
        nodeRepresentation: o.nodeRepresentation,
      });
      break;
    case 'ExternalIdentifier':
      w.start('rim:ExternalIdentifier', {
        ...commonAttributes(o),
        identificationScheme: o.identificationScheme,
        value: o.value,
        registryObject: o.registryObject,
      });
      break;
  }
  writeBody(w, o);
  w.end();
}

/** `<rim:RegistryObjectList xmlns:rim=...>` with the given objects. */
export function writeRegistryObjectList(w: XmlWriter, objects: readonly RegistryObject[], declareNamespace = true): void {
  w.start('rim:RegistryObjectList', declareNamespace ? { 'xmlns:rim': RIM_NS } : undefined);
  for (const o of objects) writeRegistryObject(w, o);
  w.end();
}
