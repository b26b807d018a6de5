/**
 * Harbor's list paging: `page` (from 1) and `page_size` (default 10, at most
 * 100, 0 = everything), answered with `X-Total-Count` and a `Link` header
 * holding `prev`/`next` URLs relative to the server, joined by " , " as
 * Harbor's lib.Links does.
 */
import { intParam, unprocessable } from './json.js';

export interface PageRequest {
  page: number;
  pageSize: number;
}

const DEFAULT_PAGE_SIZE = 10;
const MAX_PAGE_SIZE = 100;

export function pageRequest(url: URL): PageRequest {
  const page = intParam(url.searchParams.get('page'), 'page', 1);
  const pageSize = intParam(url.searchParams.get('page_size'), 'page_size', DEFAULT_PAGE_SIZE);
  if (pageSize > MAX_PAGE_SIZE) throw unprocessable(`page_size in query should be less than or equal to ${MAX_PAGE_SIZE}`);
  // Harbor's ORM skips limit and offset for non-positive values rather than refusing them.
  return { page: Math.max(page, 1), pageSize: Math.max(pageSize, 0) };
}

export function pageOf<T>(items: readonly T[], req: PageRequest): T[] {
  if (req.pageSize === 0) return [...items];
  const start = (req.page - 1) * req.pageSize;
  return items.slice(start, start + req.pageSize);
}

/** `X-Total-Count` always, `Link` when there is a page before or after this one. */
export function pageHeaders(url: URL, total: number, req: PageRequest): Record<string, string> {
  const headers: Record<string, string> = { 'X-Total-Count': String(total) };
  if (req.pageSize === 0) return headers;
  const links: string[] = [];
  if (req.page > 1 && (req.page - 1) * req.pageSize < total) links.push(`<${linkTo(url, req.page - 1, req.pageSize)}>; rel="prev"`);
  if (req.page * req.pageSize < total) links.push(`<${linkTo(url, req.page + 1, req.pageSize)}>; rel="next"`);
  if (links.length > 0) headers.Link = links.join(' , ');
  return headers;
}

function linkTo(url: URL, page: number, pageSize: number): string {
  const query = new URLSearchParams(url.searchParams);
  query.set('page', String(page));
  query.set('page_size', String(pageSize));
  // Go's url.Values.Encode sorts by key; the same order keeps our links byte-comparable with Harbor's.
  query.sort();
  return `${url.pathname}?${query.toString()}`;
}
