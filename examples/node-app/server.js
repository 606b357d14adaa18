// A tiny express app: GET / answers with a greeting and the Node.js version.
const express = require('express');

const app = express();
app.get('/', (_req, res) => {
  res.type('text/plain').send(`Hello from express on Berth (node ${process.version})\n`);
});
app.listen(3000, '0.0.0.0', () => console.log('listening on 3000'));
