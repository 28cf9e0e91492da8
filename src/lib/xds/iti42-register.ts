// ITI-42 Register Document Set-b: the body is a bare lcm:SubmitObjectsRequest (ihe-protocols.md §4).
import { firstChild, type XmlElement } from '../soap/safe-xml.ts';
import { XmlWriter } from '../soap/xml-writer.ts';
import { writeRegistryObjectList } from './ebrim.ts';
import { readXdsMetadata, xdsMetadataToEbrim, type ReadMetadataResult, type XdsMetadata } from './metadata.ts';
import { registryError, XdsError } from './registry-response.ts';
import { LCM_NS, RIM_NS, XDS_ACTIONS } from './vocabulary.ts';

export const REGISTER_ACTION = XDS_ACTIONS.register;
export const REGISTER_RESPONSE_ACTION = XDS_ACTIONS.registerResponse;

/** Reads the metadata of an lcm:SubmitObjectsRequest element (ITI-42 body, or inside ITI-41). */
export function readSubmitObjectsRequest(element: XmlElement): ReadMetadataResult {
  if (element.ns !== LCM_NS || element.local !== 'SubmitObjectsRequest') {
    throw new XdsError(registryError('XDSRegistryMetadataError', `expected lcm:SubmitObjectsRequest, got {${element.ns}}${element.local}`));
  }
  const list = firstChild(element, RIM_NS, 'RegistryObjectList');
  if (!list) throw new XdsError(registryError('XDSRegistryMetadataError', 'lcm:SubmitObjectsRequest has no rim:RegistryObjectList'));
  return readXdsMetadata(list);
}

/** ITI-42 request payload (SOAP Body child) → metadata + reading problems. */
export function readRegisterRequest(payload: XmlElement | undefined): ReadMetadataResult {
  if (!payload) throw new XdsError(registryError('XDSRegistryMetadataError', 'the SOAP Body is empty'));
  return readSubmitObjectsRequest(payload);
}

export function writeSubmitObjectsRequestTo(w: XmlWriter, metadata: XdsMetadata): void {
  w.start('lcm:SubmitObjectsRequest', { 'xmlns:lcm': LCM_NS });
  writeRegistryObjectList(w, xdsMetadataToEbrim(metadata));
  w.end();
}

/** ITI-42 request body XML. */
export function writeSubmitObjectsRequest(metadata: XdsMetadata): string {
  const w = new XmlWriter();
  writeSubmitObjectsRequestTo(w, metadata);
  return w.toString();
}
