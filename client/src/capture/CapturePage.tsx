import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { CandidateInfo, FieldDetail, OperatorMeResponse, ReadingDetail, ReadingFrameResponse, TpsDetailResponse } from '../../../server/contract/index.js';
import { apiFetch, ApiError, getToken, setToken } from '../lib/api.js';
import { formatDateTime } from '../lib/format.js';
import { useI18n } from '../lib/i18n.js';
import { getSocket, roomOf, useRoom } from '../lib/live.js';
import { outbox, type QueueItem } from './queue.js';
import { registerCaptureServiceWorker } from './sw.js';
import { checkValues, ct, fieldLabel, fieldOrder, rejectAdvice, ruleText, type CaptureKey } from './text.js';
import './capture.css';

/**
 * The KPPS officer's screen (phone first): sign in with the device token, pick the contest and page,
 * photograph the form inside the framing guide, send (through the outbox: works offline), then check
 * the machine reading field by field beside the crop of its boxes and confirm ("Sesuai") or correct.
 * The confirmation is the KPPS stage of the result, with who and when; the machine read stays in the
 * history, and a retake adds a photo without removing the earlier one.
 */

const ME_KEY = 'rekap.capture.me';
const PRACTICE_KEY = 'rekap.capture.practice';
const LOW_P = 0.9;

function useOnline(): boolean {
  const [on, setOn] = useState(typeof navigator === 'undefined' ? true : navigator.onLine);
  useEffect(() => {
    const up = () => setOn(true);
    const down = () => setOn(false);
    window.addEventListener('online', up);
    window.addEventListener('offline', down);
    return () => {
      window.removeEventListener('online', up);
      window.removeEventListener('offline', down);
    };
  }, []);
  return on;
}

export function CapturePage() {
  const { lang } = useI18n();
  const t = useCallback((k: CaptureKey, v?: Record<string, string | number>) => ct(lang, k, v), [lang]);
  const [token, setTok] = useState<string | null>(() => {
    // A device link (/kpps?token=rk_…) signs the phone in once; the token leaves the address bar.
    const fromUrl = new URLSearchParams(location.search).get('token');
    if (fromUrl) {
      setToken(fromUrl);
      history.replaceState(null, '', location.pathname);
      return fromUrl;
    }
    return getToken();
  });
  const [me, setMe] = useState<OperatorMeResponse | null>(() => {
    try {
      return JSON.parse(localStorage.getItem(ME_KEY) ?? 'null') as OperatorMeResponse | null;
    } catch {
      return null;
    }
  });
  const [meError, setMeError] = useState<string | null>(null);
  const [cachedMe, setCachedMe] = useState(false);

  useEffect(() => {
    registerCaptureServiceWorker();
    outbox.start();
  }, []);

  // Refetched when the network returns, so "offline, using saved data" never outlives the outage.
  const [online, setOnline] = useState(0);
  useEffect(() => {
    const up = () => setOnline((n) => n + 1);
    window.addEventListener('online', up);
    return () => window.removeEventListener('online', up);
  }, []);

  useEffect(() => {
    if (!token) return;
    let stop = false;
    apiFetch<OperatorMeResponse>('/api/operators/me')
      .then((m) => {
        if (stop) return;
        setMe(m);
        setCachedMe(false);
        setMeError(null);
        localStorage.setItem(ME_KEY, JSON.stringify(m));
      })
      .catch((e: ApiError) => {
        if (stop) return;
        if (e.status === 0) setCachedMe(true);
        else {
          setMeError(t('badToken', { m: e.message }));
          if (e.status === 401) {
            setToken(null);
            setTok(null);
            localStorage.removeItem(ME_KEY);
            setMe(null);
          }
        }
      });
    return () => {
      stop = true;
    };
  }, [token, t, online]);

  if (!token || !me) return <Login t={t} error={meError} onToken={(v) => (setToken(v), setTok(v), setMeError(null))} />;
  if (!me.tps) {
    return (
      <div className="capture">
        <p className="cap-error" role="alert">{t('notKpps')}</p>
        <SignOut t={t} onOut={() => (setToken(null), setTok(null), setMe(null), localStorage.removeItem(ME_KEY))} />
      </div>
    );
  }
  return <Capture me={me} cached={cachedMe} t={t} onSignOut={() => (setToken(null), setTok(null), setMe(null), localStorage.removeItem(ME_KEY))} />;
}

type Tr = (k: CaptureKey, v?: Record<string, string | number>) => string;

function Login({ t, error, onToken }: { t: Tr; error: string | null; onToken(v: string): void }) {
  const [v, setV] = useState('');
  return (
    <form className="capture cap-login" onSubmit={(e) => (e.preventDefault(), v.trim() && onToken(v.trim()))}>
      <h1>{t('loginTitle')}</h1>
      <p className="muted">{t('loginHelp')}</p>
      <label>
        {t('tokenLabel')}
        <input data-testid="token-input" autoComplete="off" value={v} onChange={(e) => setV(e.target.value)} placeholder="rk_…" />
      </label>
      {error && <p className="cap-error" role="alert">{error}</p>}
      <button type="submit" className="cap-primary" data-testid="token-submit">{t('signIn')}</button>
    </form>
  );
}

function SignOut({ t, onOut }: { t: Tr; onOut(): void }) {
  return <button type="button" className="cap-link" onClick={onOut}>{t('signOut')}</button>;
}

interface Watch { tps: string; contest: string; submissionId: number | null; itemId: number }

function Capture({ me, cached, t, onSignOut }: { me: OperatorMeResponse; cached: boolean; t: Tr; onSignOut(): void }) {
  const { lang, locale } = useI18n();
  const tps = me.tps!;
  const online = useOnline();
  const [practice, setPractice] = useState(() => localStorage.getItem(PRACTICE_KEY) === '1');
  const contests = me.contests.filter((c) => c.isPractice === practice);
  const [contestId, setContestId] = useState<string | null>(null);
  const contest = contests.find((c) => c.id === contestId) ?? contests[0] ?? null;
  const [page, setPage] = useState<string>('');
  const [photo, setPhoto] = useState<{ file: File; url: string } | null>(null);
  const [items, setItems] = useState<QueueItem[]>([]);
  const [watch, setWatch] = useState<Watch | null>(null);
  const desa = me.path.at(-1)?.name ?? tps.desaCode;

  useEffect(() => localStorage.setItem(PRACTICE_KEY, practice ? '1' : '0'), [practice]);
  useEffect(() => outbox.subscribe(setItems), []);
  useEffect(
    () =>
      outbox.onSent((it) => {
        // A photo queued before a reload (or while another screen was open) still gets its read-back.
        if (it.kind === 'photo') {
          setWatch((w) =>
            w && w.itemId === it.id
              ? { ...w, submissionId: it.submissionId ?? null }
              : (w ?? { tps: it.tps, contest: it.contest, submissionId: it.submissionId ?? null, itemId: it.id! }),
          );
        }
      }),
    [],
  );

  const choose = (f: File | undefined) => {
    if (!f) return;
    if (photo) URL.revokeObjectURL(photo.url);
    setPhoto({ file: f, url: URL.createObjectURL(f) });
  };

  // The photo being put into the outbox: a second tap on "send" must not queue it twice.
  const [queueing, setQueueing] = useState<{ file: File; url: string } | null>(null);
  const send = async () => {
    if (!photo || !contest || queueing === photo) return;
    const sent = photo;
    setQueueing(sent);
    try {
      const bytes = await sent.file.arrayBuffer();
      const id = await outbox.add({ kind: 'photo', tps: tps.code, contest: contest.id, page: page || null, bytes, mime: sent.file.type || 'image/jpeg', name: sent.file.name || 'foto.jpg' });
      URL.revokeObjectURL(sent.url);
      // Queueing reads the photo and writes IndexedDB, which can take a moment on a slow phone; an
      // officer who has already taken the next page's photo in that moment keeps it.
      setPhoto((current) => (current === sent ? null : current));
      setWatch({ tps: tps.code, contest: contest.id, submissionId: null, itemId: id });
    } finally {
      setQueueing((q) => (q === sent ? null : q));
    }
  };

  return (
    <div className={`capture${practice ? ' practice' : ''}`} data-testid="capture" data-practice={practice ? '1' : '0'}>
      {practice && <div className="cap-banner" data-testid="practice-banner">{t('practiceBanner')}</div>}
      <section className="cap-card cap-who">
        <h1>{t('title')}</h1>
        <p data-testid="capture-tps"><strong>{t('tpsLine', { n: String(tps.number).padStart(3, '0'), desa })}</strong></p>
        <p className="muted">{me.path.slice(1, -1).map((a) => a.name).join(' › ')}</p>
        <p className="muted">{t('operator', { name: me.user.name })} · <SignOut t={t} onOut={onSignOut} /></p>
        <p className={`cap-net ${online ? 'on' : 'off'}`} data-testid="net-status" data-online={online ? '1' : '0'}>{online ? t('online') : t('offline')}</p>
        {cached && <p className="muted">{t('offlineCached')}</p>}
        <label className="cap-switch">
          <input type="checkbox" checked={practice} data-testid="practice-toggle" onChange={(e) => (setPractice(e.target.checked), setContestId(null), setWatch(null))} />
          <span>{t('practice')}</span>
        </label>
      </section>

      <section className="cap-card">
        <fieldset className="cap-choices">
          <legend>{t('contest')}</legend>
          {contests.map((c) => (
            <label key={c.id} className={`cap-choice${contest?.id === c.id ? ' on' : ''}`}>
              <input type="radio" name="contest" value={c.id} checked={contest?.id === c.id} onChange={() => setContestId(c.id)} />
              <span>{c.name}</span>
            </label>
          ))}
        </fieldset>
        <fieldset className="cap-choices row">
          <legend>{t('page')}</legend>
          {[['', t('pageAuto')], ['administrasi', t('pageAdmin')], ['perolehan', t('pageVotes')]].map(([v, label]) => (
            <label key={v} className={`cap-choice${page === v ? ' on' : ''}`}>
              <input type="radio" name="page" value={v} checked={page === v} onChange={() => setPage(v)} />
              <span>{label}</span>
            </label>
          ))}
        </fieldset>

        <div className="cap-frame" data-testid="frame-guide">
          {photo ? <img src={photo.url} alt="" data-testid="photo-preview" /> : <p>{t('frameHelp')}</p>}
          <span className="corner tl" /><span className="corner tr" /><span className="corner bl" /><span className="corner br" />
        </div>
        {photo && <p className="muted small">{t('frameHelp')}</p>}
        <div className="cap-actions">
          <label className="cap-primary cap-file">
            {photo ? t('retake') : t('takePhoto')}
            <input type="file" accept="image/*" capture="environment" data-testid="photo-input" onChange={(e) => (choose(e.target.files?.[0]), (e.target.value = ''))} />
          </label>
          <label className="cap-secondary cap-file">
            {t('chooseFile')}
            <input type="file" accept="image/jpeg,image/png,image/webp" onChange={(e) => (choose(e.target.files?.[0]), (e.target.value = ''))} />
          </label>
          {photo && (
            <button type="button" className="cap-primary" data-testid="send-photo" disabled={queueing === photo} onClick={() => void send()}>
              {t('send')}
            </button>
          )}
        </div>
      </section>

      <Outbox items={items} t={t} locale={locale} />
      {practice && contest && <PracticeTally contest={contest.id} desaCode={tps.desaCode} t={t} locale={locale} />}

      {watch && (
        <ReadBack
          key={`${watch.contest}:${watch.itemId}`}
          watch={watch}
          desaCode={tps.desaCode}
          candidates={me.contests.find((c) => c.id === watch.contest)?.candidates ?? []}
          t={t}
          lang={lang}
          locale={locale}
          userName={me.user.name}
          onRetake={() => (setWatch(null), window.scrollTo({ top: 0 }))}
        />
      )}
    </div>
  );
}

/** The sandbox's own live tally for this desa, so a rehearsal ends on a number the officer can see. */
function PracticeTally({ contest, desaCode, t, locale }: { contest: string; desaCode: string; t: Tr; locale: string }) {
  const room = useRoom(contest, desaCode);
  const tally = room?.tally;
  return (
    <section className="cap-card" data-testid="practice-tally" data-published={tally?.tpsPublished ?? ''}>
      <h2>{t('practiceTally')}</h2>
      {tally && <p>{t('practiceTallyLine', { x: tally.tpsPublished, y: tally.tpsExpected, s: tally.suaraSah.toLocaleString(locale) })}</p>}
    </section>
  );
}

function Outbox({ items, t, locale }: { items: QueueItem[]; t: Tr; locale: string }) {
  const label: Record<QueueItem['state'], string> = { queued: t('stQueued'), sending: t('stSending'), done: t('stDone'), failed: t('stFailed') };
  const waiting = items.filter((i) => i.state !== 'done').length;
  return (
    <section className="cap-card" data-testid="outbox" data-waiting={waiting}>
      <h2>{t('outbox')} {waiting > 0 && <span className="cap-count">{waiting}</span>}</h2>
      {items.length === 0 && <p className="muted">{t('outboxEmpty')}</p>}
      <ol className="cap-outbox">
        {items.slice(-12).map((i) => (
          <li key={i.id} className={`st-${i.state}`} data-testid="outbox-item" data-state={i.state} data-kind={i.kind}>
            <span className="cap-chip">{label[i.state]}</span>{' '}
            {i.kind === 'photo' ? t('photoItem', { page: i.page ?? '' }) : t('confirmItem')} · {i.contest.replace(/^latihan-/, 'latihan · ')}
            {' · '}<span className="muted">{formatDateTime(i.createdAt, locale)}</span>
            {i.kind === 'photo' && i.submissionId && <span className="muted"> · #{i.submissionId} {i.duplicate ? t('duplicate') : ''}</span>}
            {i.attempts > 1 && <span className="muted"> · {t('attempts', { n: i.attempts })}</span>}
            {i.lastError && i.state !== 'done' && <div className="cap-error small">{i.state === 'failed' ? i.lastError : t('netError')}</div>}
            {i.state === 'failed' && (
              <button type="button" className="cap-link" onClick={() => void outbox.retry(i.id!)}>{t('tryAgain')}</button>
            )}
          </li>
        ))}
      </ol>
      {items.some((i) => i.state === 'done') && (
        <button type="button" className="cap-link" onClick={() => void outbox.clearDone()}>{t('clearDone')}</button>
      )}
    </section>
  );
}

type H3 = number[][];
const applyH = (h: H3, x: number, y: number): [number, number] => {
  const w = h[2][0] * x + h[2][1] * y + h[2][2];
  return [(h[0][0] * x + h[0][1] * y + h[0][2]) / w, (h[1][0] * x + h[1][1] * y + h[1][2]) / w];
};

/**
 * The boxes of one field cut from the original photo. `roi`s live in the reader's flattened page
 * frame; the homography says where that frame sits in the photo. Over one field the perspective is
 * nearly affine, so three mapped corners place the crop. Without a frame nothing is drawn: a crop
 * from the wrong place would mislead more than no crop.
 */
function FieldCrop({ img, roi, frame }: { img: HTMLImageElement | null; roi?: [number, number, number, number][]; frame: H3 | null }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current;
    if (!c || !img || !frame || !roi?.length || !img.naturalWidth) return;
    const pad = 4;
    const x0 = Math.min(...roi.map((r) => r[0])) - pad;
    const y0 = Math.min(...roi.map((r) => r[1])) - pad;
    const x1 = Math.max(...roi.map((r) => r[0] + r[2])) + pad;
    const y1 = Math.max(...roi.map((r) => r[1] + r[3])) + pad;
    const w = Math.max(1, Math.round(x1 - x0));
    const h = Math.max(1, Math.round(y1 - y0));
    c.width = w;
    c.height = h;
    const ctx = c.getContext('2d');
    if (!ctx) return;
    const [ax, ay] = applyH(frame, x0, y0);
    const [bx, by] = applyH(frame, x1, y0);
    const [dx, dy] = applyH(frame, x0, y1);
    // Canvas (u, v) → photo: A + u·(B−A)/w + v·(D−A)/h; draw the photo through the inverse.
    const toPhoto = new DOMMatrix([(bx - ax) / w, (by - ay) / w, (dx - ax) / h, (dy - ay) / h, ax, ay]);
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, w, h);
    ctx.setTransform(toPhoto.inverse());
    ctx.drawImage(img, 0, 0);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
  }, [img, roi, frame]);
  return frame && roi?.length ? <canvas ref={ref} className="cap-crop" data-testid="field-crop" aria-hidden="true" /> : null;
}

function ReadBack({ watch, desaCode, candidates, t, lang, locale, userName, onRetake }: {
  watch: Watch; desaCode: string; candidates: CandidateInfo[]; t: Tr; lang: 'id' | 'en'; locale: string; userName: string; onRetake(): void;
}) {
  const [detail, setDetail] = useState<TpsDetailResponse | null>(null);
  const [edits, setEdits] = useState<Record<string, string>>({});
  const [img, setImg] = useState<HTMLImageElement | null>(null);
  const [queued, setQueued] = useState(false);
  const [frame, setFrame] = useState<H3 | null>(null);
  const sectionRef = useRef<HTMLElement>(null);
  const load = useCallback(async () => {
    try {
      setDetail(await apiFetch<TpsDetailResponse>(`/api/tps/${watch.tps}?contest=${encodeURIComponent(watch.contest)}`));
    } catch {
      /* offline: the next delta or reconnect loads it */
    }
  }, [watch.tps, watch.contest]);

  const sub = detail?.submissions.find((s) => s.id === watch.submissionId) ?? null;
  const reading: ReadingDetail | null = sub?.readings.at(-1) ?? null;
  const settled = sub ? sub.status === 'read' || sub.status === 'rejected' || sub.status === 'failed' : false;

  // Live: the TPS's result changes arrive as deltas of its desa room; each one reloads the detail.
  useEffect(() => {
    if (watch.submissionId == null) return;
    void load();
    const s = getSocket();
    const room = roomOf(watch.contest, desaCode);
    const onDelta = (d: { room: string; tps: { code: string }[] }) => {
      if (d.room === room && d.tps.some((x) => x.code === watch.tps)) void load();
    };
    const subscribe = () => s.emit('subscribe', { area: desaCode, contest: watch.contest }, () => undefined);
    s.on('delta', onDelta);
    s.on('connect', subscribe);
    if (s.connected) subscribe();
    return () => {
      s.off('delta', onDelta);
      s.off('connect', subscribe);
    };
  }, [watch.submissionId, watch.contest, watch.tps, desaCode, load]);

  // A rejected or failed read publishes nothing, so no delta announces it: until the submission has
  // settled, look at its status every few seconds (one small request, only while this screen waits).
  useEffect(() => {
    if (watch.submissionId == null || settled) return;
    const h = setInterval(() => void load(), 3000);
    return () => clearInterval(h);
  }, [watch.submissionId, settled, load]);

  const c = detail?.contests.find((x) => x.contestId === watch.contest) ?? null;
  const current = c?.current ?? null;
  const base: Record<string, number> = useMemo(() => ({ ...(reading?.values ?? {}), ...(current?.values ?? {}) }), [reading, current]);
  const shown: Record<string, number> = { ...base };
  const corrected: string[] = [];
  for (const [k, s] of Object.entries(edits)) {
    const n = Number(s);
    if (s.trim() !== '' && Number.isInteger(n) && n >= 0 && n !== base[k]) {
      shown[k] = n;
      corrected.push(k);
    }
  }
  const invalidEdit = Object.values(edits).some((s) => s.trim() !== '' && !(Number.isInteger(Number(s)) && Number(s) >= 0 && Number(s) <= 99_999));
  const problems = checkValues(shown, lang);
  const problemFields = new Set(problems.flatMap((p) => p.fields));
  const serverFails = (current?.rules ?? []).filter((r) => r.status === 'FAIL' && r.class === 'HARD');
  const changedByReader = new Set((reading?.changes ?? []).map((x) => (x as { key?: string }).key).filter(Boolean) as string[]);
  const kppsVersion = c?.versions.find((v) => v.stage === 'kpps' && v.isCurrent) ?? null;
  const readingId = reading && reading.cls !== 'REJECTED' ? reading.id : null;
  // Why a photo was refused (the reader's reason code) and what the officer should do about it.
  const refusal = sub?.statusReason ?? reading?.rejectReason;
  const advice = rejectAdvice(refusal, lang);
  useEffect(() => {
    if (readingId == null) return;
    apiFetch<ReadingFrameResponse>(`/api/capture/readings/${readingId}/frame`)
      .then((f) => setFrame(f.homography))
      .catch(() => setFrame(null));
  }, [readingId]);
  // The officer's next step is here: bring it into view once the reading arrives.
  useEffect(() => {
    if (readingId != null) sectionRef.current?.scrollIntoView({ block: 'start' });
  }, [readingId]);
  const fields = reading ? Object.entries(reading.fields).sort(([a], [b]) => fieldOrder(a) - fieldOrder(b) || a.localeCompare(b)) : [];

  const confirm = async () => {
    await outbox.add({ kind: 'confirm', tps: watch.tps, contest: watch.contest, values: shown, corrected });
    setQueued(true);
    setEdits({});
  };

  // After our confirmation reached the server, show the KPPS version it created.
  useEffect(
    () =>
      outbox.onSent((it) => {
        if (it.kind === 'confirm' && it.tps === watch.tps && it.contest === watch.contest) {
          setQueued(false);
          void load();
        }
      }),
    [watch.tps, watch.contest, load],
  );

  return (
    <section ref={sectionRef} className="cap-card cap-readback" data-testid="readback" data-state={!sub ? 'waiting' : sub.status}>
      <h2>{t('readback')}</h2>
      {(!sub || (!settled && !reading)) && <p className="cap-wait" data-testid="reading-wait">⏳ {t('reading')}</p>}
      {sub && (sub.status === 'rejected' || sub.status === 'failed') && (
        <div className="cap-error" role="alert" data-testid="reading-rejected">
          <strong>{sub.status === 'rejected' ? t('rejectedTitle') : t('failedTitle')}</strong>
          {advice && <p data-testid="reject-advice">{advice}</p>}
          <p className="muted">{refusal ?? ''}</p>
        </div>
      )}
      {sub && <img className="cap-hidden" src={sub.photoUrl} alt="" crossOrigin="anonymous" onLoad={(e) => setImg(e.currentTarget)} />}
      {reading && reading.cls !== 'REJECTED' && (
        <>
          <p className="muted">{t('readbackHelp')}</p>
          <ul className="cap-fields" data-testid="readback-fields">
            {fields.map(([key, f]: [string, FieldDetail]) => {
              const low = f.p != null && f.p < LOW_P;
              const edited = corrected.includes(key);
              return (
                <li key={key} data-field={key} className={`${low ? 'low' : ''}${problemFields.has(key) ? ' bad' : ''}${edited ? ' edited' : ''}`}>
                  <div className="cap-field-label">
                    {fieldLabel(key, lang, candidates)}
                    {low && <span className="cap-flag" data-testid="low-confidence">{t('checkThis')}</span>}
                    {changedByReader.has(key) && <span className="cap-flag soft">{t('changedByReader')}</span>}
                    {edited && <span className="cap-flag edit">{t('youChanged')}</span>}
                  </div>
                  <div className="cap-field-row">
                    <FieldCrop img={img} roi={f.roi} frame={frame} />
                    <input
                      inputMode="numeric"
                      pattern="[0-9]*"
                      aria-label={fieldLabel(key, lang, candidates)}
                      data-testid={`value-${key}`}
                      value={edits[key] ?? String(shown[key] ?? f.value ?? '')}
                      onChange={(e) => setEdits((m) => ({ ...m, [key]: e.target.value.replace(/[^0-9]/g, '') }))}
                    />
                  </div>
                </li>
              );
            })}
          </ul>
          <div className={`cap-checks ${problems.length ? 'bad' : 'good'}`} data-testid="identity-checks" data-problems={problems.length}>
            <strong>{problems.length ? t('problems') : t('noProblems')}</strong>
            <ul>
              {problems.map((p, i) => (
                <li key={i} data-rule={p.rule}>{p.text}</li>
              ))}
            </ul>
            {serverFails.length > 0 && corrected.length === 0 && (
              <>
                <strong>{t('serverRules')}</strong>
                <ul>
                  {serverFails.map((r, i) => (
                    <li key={i} data-rule={r.rule}>{ruleText(r.rule, lang)}</li>
                  ))}
                </ul>
              </>
            )}
          </div>
          <div className="cap-actions">
            <button type="button" className="cap-primary big" data-testid="confirm" disabled={invalidEdit || queued} onClick={() => void confirm()}>
              {corrected.length ? t('confirmCorrected', { n: corrected.length }) : t('confirm')}
            </button>
          </div>
          {queued && <p className="muted" data-testid="confirm-queued">{t('confirmQueued')}</p>}
        </>
      )}
      {kppsVersion && (
        <p className="cap-ok" data-testid="kpps-version" data-version={kppsVersion.version} data-status={kppsVersion.status}>
          {t('kppsSaved', { v: kppsVersion.version, who: userName, at: formatDateTime(kppsVersion.createdAt, locale) })} ·{' '}
          <strong>{kppsVersion.status === 'published' ? t('statusPublished') : kppsVersion.status === 'quarantined' ? t('statusQuarantined') : t('statusIncomplete')}</strong>
        </p>
      )}
      {c && c.versions.length > 0 && (
        <details className="cap-history" open={!!kppsVersion}>
          <summary>{t('history')}</summary>
          <ol data-testid="version-history">
            {c.versions.map((v) => (
              <li key={v.id} data-stage={v.stage} data-current={v.isCurrent ? '1' : '0'}>
                v{v.version} · {t(`stage_${v.stage}` as CaptureKey)} · {formatDateTime(v.createdAt, locale)}{v.isCurrent ? ' ✓' : ''}
              </li>
            ))}
          </ol>
        </details>
      )}
      {detail && detail.submissions.filter((s) => s.contestId === watch.contest && s.id !== watch.submissionId).length > 0 && (
        <div className="cap-earlier">
          <p className="muted">{t('earlierPhotos')}</p>
          <div className="cap-thumbs">
            {detail.submissions.filter((s) => s.contestId === watch.contest && s.id !== watch.submissionId).map((s) => (
              <a key={s.id} href={s.photoUrl} target="_blank" rel="noreferrer">
                <img src={s.photoUrl} alt={`#${s.id}`} loading="lazy" />
              </a>
            ))}
          </div>
        </div>
      )}
      <div className="cap-actions">
        <button type="button" className="cap-secondary" data-testid="retake" onClick={onRetake}>{t('retake')}</button>
      </div>
    </section>
  );
}
