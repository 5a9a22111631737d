// Type declarations for cardgate.js, the card-side SDK.

export interface CardgateOptions {
  /** How long to wait for the card host's answer. Default 10000. */
  timeoutMs?: number;
  /** Expected origin of the card host; default location.ancestorOrigins[0] when available. */
  hostOrigin?: string;
  /** Timeout of KASClient.App.performHTTPRequest. Default 30000. */
  httpTimeoutMs?: number;
}

/** The `result` of a successful getIntegrationServiceToken reply. */
export interface TokenResult {
  token: string;
  /** RFC 3339 time, e.g. "2026-11-25T10:30:00Z". */
  expiresAt: string;
  /** Lifetime in seconds. */
  expiresIn: number;
  /** Service base URLs that receive the token in cardgate.fetch. */
  externalUrls: string[];
}

/** Error codes: NoHost, Timeout, Protocol, or whatever the host replied (Forbidden, InvalidRequest, RateLimited, Internal, ...). */
export interface CardgateError extends Error {
  code: string;
}

/** Kaizala-compatible callbacks; the names keep Kaizala's misspellings. */
export type KASTokenCallback = (token: string | null, error: string | null) => void;
/** response: JSON of KASHttpResponse; error: JSON of KASHttpError. */
export type KASHttpCallback = (response: string | null, error: string | null) => void;

export interface KASHttpParameters {
  method?: string;
  requestBody?: string;
  requestHeaders?: Record<string, string>;
  queryParameters?: Record<string, string>;
  requestResourcePath?: string;
}

export interface KASHttpResponse {
  HttpResponseCode: number;
  /** Header names are lowercased. */
  HttpResponseHeader: Record<string, string>;
  HttpResponseBody: string;
}

export interface KASHttpError {
  /** -1 network failure, -2 timeout, -3 invalid parametersJSON. */
  HttpErrorCode: -1 | -2 | -3;
  HttpErrorMessage: string;
}

export interface KASClientApi {
  getIntegerationServiceToken(callback: KASTokenCallback): void;
  App: {
    getIntegerationServiceTokenAsync(callback: KASTokenCallback): void;
    /** parametersJSON is a JSON string of KASHttpParameters. */
    performHTTPRequest(url: string, parametersJSON: string, callback: KASHttpCallback): void;
  };
}

export interface Cardgate {
  /** Resolves to a cached or fresh token; rejects with a CardgateError. */
  getIntegrationServiceToken(): Promise<string>;
  /** window.fetch that adds "Authorization: Bearer <token>" for the token's externalUrls and retries once on 401. */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** Drops the cached token. */
  invalidateToken(): void;
  KASClient: KASClientApi;
}

export function createCardgate(win: Window, options?: CardgateOptions): Cardgate;

declare global {
  /** Installed when the page is framed. */
  var cardgate: Cardgate;
  var KASClient: KASClientApi;
}
