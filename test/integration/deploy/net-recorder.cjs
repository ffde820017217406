// Loaded into the deploy's process by the tests (NODE_OPTIONS=--require): records every outgoing
// connection and every name looked up, so a test sees everything the deploy tried to reach,
// whether or not it went through the proxy.
const fs = require('fs');
const net = require('net');
const dns = require('dns');

const file = process.env.NET_RECORD;
const note = (line) => fs.appendFileSync(file, `${line}\n`);

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  const o = typeof first === 'object' && first !== null ? first : { port: first, host: typeof args[1] === 'string' ? args[1] : undefined };
  if (o.path) note(`connect unix:${o.path}`);
  else if (o.port !== undefined) note(`connect ${o.host ?? 'localhost'}:${o.port}`);
  return connect.apply(this, args);
};

const lookup = dns.lookup;
dns.lookup = function (hostname, ...rest) {
  note(`lookup ${hostname}`);
  return lookup.call(this, hostname, ...rest);
};
