// `imageshare edge ...` commands: they call the running server's staff API with the local CLI token,
// so the CLI and the server share one code path (and the server's audit trail).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.ts';
import { cliTokenPath } from '../server/identity.ts';

export function localApiBase(config: ReturnType<typeof loadConfig>): string {
  const host = config.http.host === '0.0.0.0' || config.http.host === '::' ? '127.0.0.1' : config.http.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.http.port}`;
}

export async function callLocalApi(path: string, init: { method: string; body?: unknown }): Promise<{ status: number; body: unknown }> {
  const config = loadConfig();
  let token: string;
  try {
    token = readFileSync(cliTokenPath(config.dataDir), 'utf8').trim();
  } catch {
    throw new Error(`cannot read the CLI token in ${config.dataDir}/keys: is IMAGESHARE_DATA_DIR the running server's data folder, and has it been started once?`);
  }
  let res: Response;
  try {
    res = await fetch(localApiBase(config) + path, {
      method: init.method,
      headers: { authorization: `Bearer ${token}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
      body: init.body ? JSON.stringify(init.body) : undefined,
    });
  } catch (err) {
    throw new Error(`the ImageShare server is not reachable at ${localApiBase(config)} (${(err as Error).message}); start it with "npm start"`);
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body };
}

export async function edgePullCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { 'patient-id': { type: 'string' }, accession: { type: 'string' } },
    strict: true,
  });
  const patientId = values['patient-id'];
  const accessionNumber = values.accession;
  if (!patientId || !accessionNumber) {
    process.stderr.write('usage: imageshare edge pull --patient-id ID --accession ACC\n');
    return 64;
  }
  try {
    const { status, body } = await callLocalApi('/api/edge/retrieve', { method: 'POST', body: { patientId, accessionNumber } });
    if (status !== 200) {
      const msg = typeof body === 'object' && body && 'error' in body ? String((body as { error: unknown }).error) : String(body);
      process.stderr.write(`pull failed (${status}): ${msg}\n`);
      return 1;
    }
    const r = body as { studyInstanceUid: string; pacs: { aet: string }; completed: number; failed: number; instancesIndexed: number };
    process.stdout.write(`Study: ${r.studyInstanceUid}\nPACS: ${r.pacs.aet}\nCompleted: ${r.completed}\nFailed: ${r.failed}\nIndexed: ${r.instancesIndexed}\n`);
    return r.failed > 0 ? 2 : 0;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 1;
  }
}
