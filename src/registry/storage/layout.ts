/**
 * Where things live under the storage root, after distribution's
 * registry/storage: blobs are content-addressed and shared, repositories hold
 * only small link files saying which blobs and manifests they contain.
 *
 *   blobs/<alg>/<hex[0:2]>/<hex>/data                       content
 *   repositories/<name>/_layers/<alg>/<hex>/link             blob linked into repo
 *   repositories/<name>/_manifests/revisions/<alg>/<hex>/link  {"digest","mediaType"}
 *   repositories/<name>/_manifests/tags/<tag>/link           digest
 *   repositories/<name>/_manifests/referrers/<alg>/<subject hex>/<alg>/<hex>/link
 *                                                  a manifest whose `subject` is that digest
 *   repositories/<name>/_uploads/<id>/{data,startedat}       uploads in progress
 *
 * Every visible file has a fixed name (`data`, `link`, `startedat`); temp
 * files start with '.', which no valid name does, so readers never see them.
 */
import { join, resolve, sep } from 'node:path';
import { checkDigest, checkRepoName, checkTag } from './names.js';

export class Layout {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  get blobsDir(): string {
    return join(this.root, 'blobs');
  }

  get reposDir(): string {
    return join(this.root, 'repositories');
  }

  blobData(digest: string): string {
    const [alg, hex] = split(digest);
    return this.inside(join(this.blobsDir, alg, hex.slice(0, 2), hex, 'data'));
  }

  repoDir(repo: string): string {
    return this.inside(join(this.reposDir, ...checkRepoName(repo).split('/')));
  }

  layerLink(repo: string, digest: string): string {
    const [alg, hex] = split(digest);
    return this.inside(join(this.repoDir(repo), '_layers', alg, hex, 'link'));
  }

  revisionsDir(repo: string): string {
    return join(this.repoDir(repo), '_manifests', 'revisions');
  }

  revisionLink(repo: string, digest: string): string {
    const [alg, hex] = split(digest);
    return this.inside(join(this.revisionsDir(repo), alg, hex, 'link'));
  }

  /** Folder of the referrers of `subject`, one `<alg>/<hex>/link` each. */
  referrersDir(repo: string, subject: string): string {
    const [alg, hex] = split(subject);
    return this.inside(join(this.repoDir(repo), '_manifests', 'referrers', alg, hex));
  }

  referrerLink(repo: string, subject: string, referrer: string): string {
    const [alg, hex] = split(referrer);
    return this.inside(join(this.referrersDir(repo, subject), alg, hex, 'link'));
  }

  tagsDir(repo: string): string {
    return join(this.repoDir(repo), '_manifests', 'tags');
  }

  tagLink(repo: string, tag: string): string {
    return this.inside(join(this.tagsDir(repo), checkTag(tag), 'link'));
  }

  uploadDir(repo: string, id: string): string {
    return this.inside(join(this.repoDir(repo), '_uploads', id));
  }

  /** Last line of defence: whatever the checks above missed, no path leaves the root. */
  private inside(path: string): string {
    if (!resolve(path).startsWith(this.root + sep)) throw new Error(`storage path escapes its root: ${path}`);
    return path;
  }
}

function split(digest: string): [string, string] {
  const [alg, hex] = checkDigest(digest).split(':') as [string, string];
  return [alg, hex];
}
