export default function Home() {
  return (
    <main>
      <h1>Analyse a video</h1>
      <form action="/api/videos" method="post" encType="multipart/form-data">
        <input type="file" name="video" accept="video/*" required />
        <button type="submit">Upload and analyse</button>
      </form>
    </main>
  );
}
