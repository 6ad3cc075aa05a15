// Certificates made in the test with the openssl CLI (`.ci/run` installs it when missing): a key pair
// and a self-signed leaf, with validity dates of the test's choosing (expired, not yet valid).
import { execFile } from 'node:child_process'
import { createHash, createPublicKey, X509Certificate, type JsonWebKey } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface TestCertificate {
  /** PEM of the certificate. */
  certPem: string
  /** PEM of the private key (PKCS#8). */
  keyPem: string
  /** The certificate as `x5c` wants it: standard base64 DER. */
  x5c: string
  /** The public key as a JWK (`n`/`e` or `crv`/`x`/`y`). */
  jwk: JsonWebKey
}

export interface CertificateOptions {
  key?: 'rsa' | 'ec-p256' | 'ec-p384' | 'ed25519'
  /** `YYYYMMDDHHMMSSZ`; default yesterday. */
  notBefore?: string
  /** `YYYYMMDDHHMMSSZ`; default in 30 days. */
  notAfter?: string
  commonName?: string
}

const stamp = (d: Date): string =>
  d
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d+Z$/, 'Z')
export const daysFromNow = (days: number): string => stamp(new Date(Date.now() + days * 86_400_000))

const KEYGEN: Record<NonNullable<CertificateOptions['key']>, string[]> = {
  rsa: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
  'ec-p256': ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  'ec-p384': ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'],
  ed25519: ['-algorithm', 'ED25519'],
}

/** A self-signed certificate valid from `notBefore` to `notAfter` (`openssl ca -selfsign` sets both dates). */
export async function makeCertificate(options: CertificateOptions = {}): Promise<TestCertificate> {
  const dir = await mkdtemp(join(tmpdir(), 'jwtguard-cert-'))
  try {
    const keyFile = join(dir, 'key.pem')
    await run('openssl', ['genpkey', ...KEYGEN[options.key ?? 'rsa'], '-out', keyFile], { timeout: 30_000 })
    await run(
      'openssl',
      ['req', '-new', '-key', keyFile, '-subj', `/CN=${options.commonName ?? 'jwtguard-test'}`, '-out', join(dir, 'req.csr')],
      {
        timeout: 30_000,
      },
    )
    await writeFile(join(dir, 'index.txt'), '')
    await writeFile(join(dir, 'serial'), '01\n')
    const config = [
      '[ca]',
      'default_ca = test',
      '[test]',
      `dir = ${dir}`,
      'database = $dir/index.txt',
      'serial = $dir/serial',
      'new_certs_dir = $dir',
      'default_md = sha256',
      'policy = any',
      'email_in_dn = no',
      'unique_subject = no',
      '[any]',
      'commonName = supplied',
    ].join('\n')
    await writeFile(join(dir, 'ca.cnf'), config)
    await run(
      'openssl',
      [
        'ca',
        '-batch',
        '-selfsign',
        '-config',
        join(dir, 'ca.cnf'),
        '-keyfile',
        keyFile,
        '-in',
        join(dir, 'req.csr'),
        '-startdate',
        options.notBefore ?? daysFromNow(-1),
        '-enddate',
        options.notAfter ?? daysFromNow(30),
        '-out',
        join(dir, 'cert.pem'),
        '-notext',
      ],
      { timeout: 30_000 },
    )
    const certPem = await readFile(join(dir, 'cert.pem'), 'utf8')
    const keyPem = await readFile(keyFile, 'utf8')
    const x5c = certPem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, '')
    return { certPem, keyPem, x5c, jwk: createPublicKey(keyPem).export({ format: 'jwk' }) }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** The certificate as a TLS connection presents it (DER). */
export const derOf = (cert: TestCertificate): Buffer => new X509Certificate(cert.certPem).raw

/** What `cnf["x5t#S256"]` holds for a certificate (RFC 8705 §3.1): base64url SHA-256 of its DER, computed here, not by jwtguard. */
export const thumbprintOf = (cert: TestCertificate | Buffer): string =>
  createHash('sha256')
    .update(Buffer.isBuffer(cert) ? cert : derOf(cert))
    .digest('base64url')
