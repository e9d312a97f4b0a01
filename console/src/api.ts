// The console's only way to the platform: the public GraphQL API on this origin, with the user's API key.
// The key lives in this tab's sessionStorage (gone when the tab closes); it is sent only in the Authorization
// header, never put in a URL, and never logged.

const KEY_STORAGE = 'pretext.apiKey';
const ENDPOINT = '/graphql';
/** Above this size a file goes through presigned multipart parts, like the CLI's --multipart-threshold. */
export const MULTIPART_THRESHOLD = 64 * 1024 * 1024;

export function getKey(): string | null {
  return sessionStorage.getItem(KEY_STORAGE);
}

export function setKey(key: string): void {
  sessionStorage.setItem(KEY_STORAGE, key);
}

export function clearKey(): void {
  sessionStorage.removeItem(KEY_STORAGE);
}

/** A GraphQL error with the server's extensions.code (UNAUTHENTICATED, FORBIDDEN, CONFLICT, …). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

interface GqlBody<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

function unwrap<T>(body: GqlBody<T>, status: number): T {
  if (body.errors?.length) {
    const e = body.errors[0]!;
    throw new ApiError(e.message, e.extensions?.code ?? (status >= 500 ? 'INTERNAL' : 'BAD_REQUEST'));
  }
  if (!body.data) throw new ApiError(`Empty response (HTTP ${status})`, 'INTERNAL');
  return body.data;
}

export async function gql<T>(query: string, variables: Record<string, unknown> = {}, key: string | null = getKey()): Promise<T> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  let res: Response;
  try {
    res = await fetch(ENDPOINT, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  } catch {
    throw new ApiError('The gateway cannot be reached', 'NETWORK');
  }
  let body: GqlBody<T>;
  try {
    body = (await res.json()) as GqlBody<T>;
  } catch {
    throw new ApiError(`Unexpected response (HTTP ${res.status})`, 'INTERNAL');
  }
  return unwrap(body, res.status);
}

export type Progress = (sentBytes: number, totalBytes: number) => void;

/** PUTs or POSTs a body with XMLHttpRequest, the browser API that reports upload progress. */
function send(method: 'POST' | 'PUT', url: string, body: XMLHttpRequestBodyInit, headers: Record<string, string>, onProgress: Progress, total: number) {
  return new Promise<{ status: number; text: string; etag: string | null }>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : total);
    xhr.onload = () => resolve({ status: xhr.status, text: xhr.responseText, etag: xhr.getResponseHeader('etag') });
    xhr.onerror = () => reject(new ApiError('The upload was interrupted', 'NETWORK'));
    xhr.send(body);
  });
}

const UPLOAD = `mutation($versionId: ID!, $file: Upload!, $name: String) {
  uploadDatasetFile(versionId: $versionId, file: $file, name: $name) { id name bytes status }
}`;
const START_MULTIPART = `mutation($input: StartMultipartUploadInput!) {
  startMultipartUpload(input: $input) { file { id } partSize partCount parts { partNumber url } }
}`;
const COMPLETE_MULTIPART = `mutation($fileId: ID!, $parts: [CompletedPartInput!]!) {
  completeMultipartUpload(fileId: $fileId, parts: $parts) { id name bytes status }
}`;

export interface UploadedFile {
  id: string;
  name: string;
  bytes: string | number;
  status: string;
}

/**
 * Uploads one file into an UPLOADING dataset version by the same two paths as the CLI: one GraphQL multipart
 * request (with apollo-require-preflight, Apollo's CSRF guard) below MULTIPART_THRESHOLD, presigned parts above.
 */
export async function uploadFile(versionId: string, file: File, onProgress: Progress): Promise<UploadedFile> {
  const key = getKey();
  const auth: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
  if (file.size < MULTIPART_THRESHOLD) {
    const form = new FormData();
    form.append('operations', JSON.stringify({ query: UPLOAD, variables: { versionId, file: null, name: file.name } }));
    form.append('map', JSON.stringify({ 0: ['variables.file'] }));
    form.append('0', file, file.name);
    const res = await send('POST', ENDPOINT, form, { ...auth, 'apollo-require-preflight': 'true' }, onProgress, file.size);
    let body: GqlBody<{ uploadDatasetFile: UploadedFile }>;
    try {
      body = JSON.parse(res.text) as GqlBody<{ uploadDatasetFile: UploadedFile }>;
    } catch {
      throw new ApiError(`Upload failed (HTTP ${res.status})`, 'INTERNAL');
    }
    return unwrap(body, res.status).uploadDatasetFile;
  }
  const started = await gql<{ startMultipartUpload: { file: { id: string }; partSize: string | number; parts: Array<{ partNumber: number; url: string }> } }>(
    START_MULTIPART,
    { input: { versionId, name: file.name, bytes: String(file.size), contentType: file.type || null } },
  );
  const { file: stored, parts } = started.startMultipartUpload;
  const partSize = Number(started.startMultipartUpload.partSize);
  const done: Array<{ partNumber: number; etag: string }> = [];
  let sentBefore = 0;
  for (const part of parts) {
    const blob = file.slice((part.partNumber - 1) * partSize, Math.min(file.size, part.partNumber * partSize));
    const res = await send('PUT', part.url, blob, {}, (sent) => onProgress(sentBefore + sent, file.size), file.size);
    if (res.status >= 300 || !res.etag) throw new ApiError(`Part ${part.partNumber} was refused (HTTP ${res.status})`, 'UPLOAD_FAILED');
    sentBefore += blob.size;
    done.push({ partNumber: part.partNumber, etag: res.etag });
  }
  return (await gql<{ completeMultipartUpload: UploadedFile }>(COMPLETE_MULTIPART, { fileId: stored.id, parts: done })).completeMultipartUpload;
}

/** Decodes the projection API's packed little-endian float32 coordinates. */
export function decodeFloat32(base64: string): Float32Array {
  const bin = atob(base64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Float32Array(bytes.buffer);
}
