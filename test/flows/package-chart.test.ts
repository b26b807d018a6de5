import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readPrivateKey } from 'openpgp';
import { GpgError } from '../../src/errors.js';
import { packageChartFlow } from '../../src/flows/package-chart.js';
import { createSigner } from '../../src/flows/signer.js';
import { verifyCharts } from '../../src/flows/verify-charts.js';
import type { Signer } from '../../src/flows/signer.js';
import { helloWorldWorkspace } from '../peers/charts.js';
import { keyFile } from '../peers/paths.js';

let work: string;
let chartDir: string;
helloWorldWorkspace((ws) => ({ dir: work, chartDir } = ws));

describe('packageChartFlow with signing', () => {
  it('keeps an existing tgz/prov pair when signing fails after packaging', async () => {
    const out = join(work, 'pair');
    const john = await createSigner({ keyName: 'John', keyrings: [keyFile('john-secring.gpg')] });
    const first = await packageChartFlow({ chartDir, destination: out, sign: john });
    const before = { tgz: await readFile(first.path), prov: await readFile(`${first.path}.prov`, 'utf8') };

    const failing: Signer = {
      ...john,
      ownSignature: undefined,
      sign: async () => Promise.reject(new GpgError('signing device unplugged')),
    };
    await assert.rejects(packageChartFlow({ chartDir, destination: out, appVersion: '2.0.0', sign: failing }), { code: 'GPG_FAILED' });

    assert.deepEqual((await readdir(out)).sort(), ['hello-world-0.1.0.tgz', 'hello-world-0.1.0.tgz.prov'], 'no staging folder left behind');
    assert.deepEqual(await readFile(first.path), before.tgz);
    assert.equal(await readFile(`${first.path}.prov`, 'utf8'), before.prov);
  });

  it('refuses a signature that does not verify before writing anything', async () => {
    const out = join(work, 'bad-sig');
    const john = await createSigner({ keyName: 'John', keyrings: [keyFile('john-secring.gpg')] });
    const jane = await readPrivateKey({ armoredKey: await readFile(keyFile('jane-sec.asc'), 'utf8') });
    // An outside signer (like gpg) whose published public key is not the key that signs.
    const liar: Signer = { ...john, ownSignature: undefined, publicKeys: async () => [jane.toPublic()] };
    await assert.rejects(packageChartFlow({ chartDir, destination: out, sign: liar }), { code: 'SIGNER_UNKNOWN' });
    assert.deepEqual(await readdir(out), []);
  });

  it('reports the signer as verify does', async () => {
    const out = join(work, 'report');
    const r = await packageChartFlow({ chartDir, destination: out, sign: { keyName: 'Sam', keyrings: [keyFile('sam-secring.gpg')] } });
    assert.equal(r.provenance?.signer.userId, 'Sam Subkey <sam@example.com>');
    assert.equal(r.provenance?.signer.hashAlgorithm, 'SHA512');
    assert.notEqual(r.provenance?.signer.keyId, r.provenance?.signer.fingerprint.slice(-16), 'signed by the subkey');
    const verified = await verifyCharts({ charts: [r.path], keyrings: [keyFile('sam-pubring.gpg')] });
    assert.ok(verified.results[0]?.ok);
    assert.deepEqual(r.provenance?.signer, verified.results[0].signer, 'package reports exactly what verify reports');
  });
});
