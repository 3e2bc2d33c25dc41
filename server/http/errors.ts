import type { ErrorRequestHandler, RequestHandler } from 'express';

/**
 * An error the client caused or must react to. Rendered as `{ error: { code, message, details? } }`
 * with its HTTP status; every 4xx in the API goes through here so the body always names the problem.
 */
export class HttpError extends Error {
  constructor(
    public readonly status: number,
    public readonly code: string,
    message: string,
    public readonly details?: unknown,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const notFound = (what: string, code = 'not_found') => new HttpError(404, code, `${what} not found`);
export const badRequest = (message: string, details?: unknown, code = 'bad_request') => new HttpError(400, code, message, details);

export const unknownRoute: RequestHandler = (req, _res, next) => {
  next(new HttpError(404, 'no_such_route', `no route for ${req.method} ${req.path}`));
};

export function errorHandler(log: (msg: string, err: unknown) => void): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    if (err instanceof HttpError) {
      res.status(err.status).json({ error: { code: err.code, message: err.message, details: err.details } });
      return;
    }
    // body-parser and similar middleware errors carry a status.
    const status = typeof err?.status === 'number' ? err.status : typeof err?.statusCode === 'number' ? err.statusCode : 500;
    if (status >= 400 && status < 500) {
      res.status(status).json({ error: { code: err.type ?? 'bad_request', message: String(err.message ?? 'bad request') } });
      return;
    }
    log('unhandled error', err);
    res.status(500).json({ error: { code: 'internal', message: 'internal error; it has been logged' } });
  };
}
