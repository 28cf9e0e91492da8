// `imageshare edge send --study UID [--dob YYYYMMDD]`: releases a study to its patient through the
// running server's staff API (local CLI token), waits until the manifest is registered, and prints the
// access code, date of birth and registry patient ID on standard output.
import { parseArgs } from 'node:util';
import { callLocalApi } from './edge-commands.ts';

interface ReleaseAnswer {
  accessCode?: string;
  dateOfBirth?: string;
  patientId?: string;
  status?: string;
  error?: string;
  retrying?: boolean;
}

export async function edgeSendCommand(args: string[]): Promise<number> {
  let values: { study?: string; dob?: string; timeout?: string };
  try {
    values = parseArgs({ args, options: { study: { type: 'string' }, dob: { type: 'string' }, timeout: { type: 'string' } }, strict: true }).values;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\nusage: imageshare edge send --study STUDY_INSTANCE_UID [--dob YYYYMMDD] [--timeout SECONDS]\n`);
    return 64;
  }
  if (!values.study) {
    process.stderr.write('usage: imageshare edge send --study STUDY_INSTANCE_UID [--dob YYYYMMDD] [--timeout SECONDS]\n');
    return 64;
  }
  const timeoutSeconds = values.timeout ? Number(values.timeout) : 3600;
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > 3600) {
    process.stderr.write('--timeout is a number of seconds between 1 and 3600\n');
    return 64;
  }
  try {
    process.stderr.write(`releasing study ${values.study} and waiting for the manifest to be registered...\n`);
    // Long waits are split into requests of at most 4 minutes (fetch gives up on answers slower than
    // 5 minutes); asking again is safe, a study has one release.
    const deadline = Date.now() + timeoutSeconds * 1000;
    let status: number;
    let answer: ReleaseAnswer;
    for (;;) {
      const waitSeconds = Math.max(1, Math.min(240, Math.ceil((deadline - Date.now()) / 1000)));
      const response = await callLocalApi('/api/edge/release', {
        method: 'POST',
        body: { studyInstanceUid: values.study, ...(values.dob ? { dateOfBirth: values.dob } : {}), wait: true, timeoutSeconds: waitSeconds },
      });
      status = response.status;
      answer = (typeof response.body === 'object' && response.body !== null ? response.body : { error: String(response.body) }) as ReleaseAnswer;
      if (status !== 202 || Date.now() >= deadline) break;
      process.stderr.write(`still submitting (status ${answer.status ?? 'unknown'})...\n`);
    }
    if (status === 200 && answer.status === 'manifest-registered' && answer.accessCode && answer.dateOfBirth && answer.patientId) {
      process.stdout.write(`Access code: ${answer.accessCode}\nDate of birth: ${answer.dateOfBirth}\nPatient ID: ${answer.patientId}\n`);
      return 0;
    }
    if (status === 202) {
      process.stderr.write(`the submission is still running (status ${answer.status ?? 'unknown'}); check again later\n`);
      return 75; // EX_TEMPFAIL
    }
    process.stderr.write(`release failed (HTTP ${status}): ${answer.error ?? 'unknown error'}${answer.retrying ? ' — the edge keeps retrying in the background' : ''}\n`);
    return 1;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 1;
  }
}
