// Test-only helpers: run DCMTK (dcmdump, dcmconv) and read its textual dump, so the library's results can
// be compared with an independent implementation. Not a test file itself (no .test.ts suffix).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface DumpedElement {
  /** 'gggg,eeee' in lower case, as dcmdump prints it. */
  readonly tag: string;
  readonly vr: string;
  /** Text between the brackets, the bare value for binary VRs, or null for "(no value available)". */
  readonly value: string | null;
  /** Value length in bytes; null for undefined length ("u/l"). */
  readonly length: number | null;
  /** Nesting depth: 0 for top-level elements. */
  readonly depth: number;
}

export interface DcmdumpView {
  /** True when dcmdump shows File Meta elements. */
  readonly hasMeta: boolean;
  /** True when dcmdump read a 128-byte preamble and 'DICM' (its debug log says checkAndReadPreamble). */
  readonly hasPreamble: boolean;
  readonly meta: readonly DumpedElement[];
  /** Top-level dataset elements only (pseudo items and delimiters left out). */
  readonly dataset: readonly DumpedElement[];
  /** The "# Used TransferSyntax:" of the dataset section, e.g. "Little Endian Implicit". */
  readonly datasetTransferSyntaxName: string;
}

const LINE = /^( *)\(([0-9a-f]{4}),([0-9a-f]{4})\) (\S\S) (.*?)\s*#\s*(\d+|u\/l),\s*\d+ /;

function parseValue(text: string): string | null {
  if (text.startsWith('(no value available)')) return null;
  if (text.startsWith('[')) return text.slice(1, text.lastIndexOf(']'));
  return text.trim();
}

/** Runs `dcmdump -d -Un +L` (plus `extraArgs`) on a file; output bytes are kept one char per byte. */
export function dcmdump(file: string, extraArgs: readonly string[] = []): DcmdumpView {
  const r = spawnSync('dcmdump', ['-d', '-Un', '+L', ...extraArgs, file], { encoding: 'latin1', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`dcmdump failed on ${file}: ${r.stderr}`);
  const meta: DumpedElement[] = [];
  const dataset: DumpedElement[] = [];
  let section: 'none' | 'meta' | 'dataset' = 'none';
  let datasetTransferSyntaxName = '';
  for (const line of r.stdout.split('\n')) {
    if (line.startsWith('# Dicom-Meta-Information-Header')) section = 'meta';
    else if (line.startsWith('# Dicom-Data-Set')) section = 'dataset';
    else if (line.startsWith('# Used TransferSyntax: ') && section === 'dataset') datasetTransferSyntaxName = line.slice(22).trim();
    const m = LINE.exec(line);
    if (m === null || m[2] === 'fffe') continue;
    const element: DumpedElement = {
      tag: `${m[2]},${m[3]}`,
      vr: m[4]!,
      value: parseValue(m[5]!),
      length: m[6] === 'u/l' ? null : Number(m[6]),
      depth: m[1]!.length / 2,
    };
    if (section === 'meta') meta.push(element);
    else if (section === 'dataset' && element.depth === 0) dataset.push(element);
  }
  const log = r.stderr;
  return {
    hasMeta: meta.length > 0,
    hasPreamble: log.includes('checkAndReadPreamble() TransferSyntax'),
    meta,
    dataset,
    datasetTransferSyntaxName,
  };
}

export function dumpedValue(view: DcmdumpView, tag: string): string | null | undefined {
  const e = view.dataset.find((d) => d.tag === tag);
  return e === undefined ? undefined : e.value === null ? null : e.value.replace(/[\0 ]+$/, '').replace(/^ +/, '') || null;
}

export type Utf8Conversion = { readonly ok: true; readonly values: ReadonlyMap<string, string | null> } | { readonly ok: false; readonly reason: string };

function topLevelValues(dump: string): Map<string, string | null> {
  const values = new Map<string, string | null>();
  for (const line of dump.split('\n')) {
    const m = LINE.exec(line);
    if (m === null || m[1] !== '' || m[2] === 'fffe' || m[2] === '0002') continue;
    const v = parseValue(m[5]!);
    values.set(`${m[2]},${m[3]}`, v === null ? null : v.replace(/[\0 ]+$/, '').replace(/^ +/, '') || null);
  }
  return values;
}

function firstError(output: string): string {
  const lines = output.trim().split('\n');
  return (lines.find((l) => l.startsWith('E:') || l.startsWith('F:')) ?? lines[0] ?? '').trim();
}

/**
 * `dcmconv +U8 in out && dcmdump out`: DCMTK's own decoding of the character set, as UTF-8. When
 * dcmconv cannot write the file (DCMTK 3.6.7 does not know the HTJ2K transfer syntaxes) the same
 * conversion is done in memory by `dcmdump +U8`. DCMTK may lack a converter (Debian's build uses glibc
 * iconv, which has no ISO 2022 IR 87): then ok=false with DCMTK's message.
 */
export function dcmtkUtf8Values(file: string): Utf8Conversion {
  const dir = mkdtempSync(join(tmpdir(), 'imageshare-dcmconv-'));
  try {
    const out = join(dir, 'utf8.dcm');
    const conv = spawnSync('dcmconv', ['+U8', file, out], { encoding: 'utf8' });
    const dump =
      conv.status === 0
        ? spawnSync('dcmdump', ['-Un', '+L', out], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
        : spawnSync('dcmdump', ['-Un', '+L', '+U8', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (dump.status !== 0 || /^[EF]: /m.test(dump.stderr)) {
      return { ok: false, reason: `${conv.status === 0 ? 'dcmdump' : 'dcmconv +U8 and dcmdump +U8'}: ${firstError(dump.stderr || conv.stderr)}` };
    }
    return { ok: true, values: topLevelValues(dump.stdout) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Header size of an explicit-VR element with this VR (PS3.5 7.1.2). */
export function explicitHeaderLength(vr: string): number {
  return ['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV'].includes(vr) ? 12 : 8;
}
