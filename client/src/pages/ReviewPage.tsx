export function ReviewPage() {
  return <p className="pad">…</p>;
}
