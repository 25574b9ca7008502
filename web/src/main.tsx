// Placeholder until the Preact app lands (issue: the web app).
import { render } from "preact";

function App() {
  return (
    <main>
      <h1>Edge chat</h1>
      <p>The server is running. The web app is on its way; the API and sockets are ready.</p>
    </main>
  );
}

render(<App />, document.getElementById("app")!);
