"""Measure GET latency while slow and stalled clients hold connections.

    python tools/slow_clients_bench.py http://127.0.0.1:9292 \
        [--stalled 200] [--slow-heads 200] [--idle 200] [--gets 500]

Against a no-Keystone (loopback) server: opens the stalled uploads (head
and 3 bytes of a 1 MiB body), the unfinished heads and the idle
kept-alive connections, then times GET /v2/images/{id} from a fresh
connection each time, and prints p50/p99/max and failures. Loopback
only; see doc/source/admin/slow-clients.rst.
"""

import argparse
import http.client
import json
import socket
import time
import urllib.parse

HEADERS = {'X-Project-Id': 'bench', 'X-Roles': 'admin,member,reader',
           'Content-Type': 'application/json'}


def request(host, port, method, path, body=None):
    conn = http.client.HTTPConnection(host, port, timeout=5)
    try:
        conn.request(method, path, body=body, headers=HEADERS)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('url')
    parser.add_argument('--stalled', type=int, default=200)
    parser.add_argument('--slow-heads', type=int, default=200)
    parser.add_argument('--idle', type=int, default=200)
    parser.add_argument('--gets', type=int, default=500)
    args = parser.parse_args()
    url = urllib.parse.urlsplit(args.url)
    host, port = url.hostname, url.port

    ids = []
    for i in range(args.stalled + 1):
        status, body = request(host, port, 'POST', '/v2/images',
                               json.dumps({'name': 'bench-%d' % i,
                                           'disk_format': 'raw',
                                           'container_format': 'bare'}))
        assert status == 201, (status, body)
        ids.append(json.loads(body)['id'])
    probe, ids = ids[0], ids[1:]

    held = []
    for image_id in ids:
        sock = socket.create_connection((host, port))
        sock.sendall(('PUT /v2/images/%s/file HTTP/1.1\r\nHost: x\r\n'
                      'X-Project-Id: bench\r\nX-Roles: admin,member\r\n'
                      'Content-Type: application/octet-stream\r\n'
                      'Content-Length: 1048576\r\n\r\nabc'
                      % image_id).encode())
        held.append(sock)
    for _ in range(args.slow_heads):
        sock = socket.create_connection((host, port))
        sock.sendall(b'GET /v2/images HTTP/1.1\r\nHost: x\r\nX-Ha')
        held.append(sock)
    idle_failures = 0
    for _ in range(args.idle):
        conn = http.client.HTTPConnection(host, port, timeout=5)
        try:
            conn.request('GET', '/versions')
            conn.getresponse().read()
        except OSError:
            # A starved server: stop after a few rather than wait for all.
            idle_failures += 1
            conn.close()
            if idle_failures >= 3:
                break
            continue
        held.append(conn)
    if idle_failures:
        print('opening idle keep-alive connections: %d timed out (5 s)'
              % idle_failures)
    opened = time.monotonic()

    timings, failures = [], 0
    for _ in range(args.gets):
        start = time.monotonic()
        try:
            status, _ = request(host, port, 'GET', '/v2/images/' + probe)
            ok = status == 200
        except OSError:
            ok = False
        timings.append(time.monotonic() - start)
        failures += not ok
    elapsed = time.monotonic() - opened
    timings.sort()
    print('GETs: %d in %.1f s after opening the connections; failures %d'
          % (len(timings), elapsed, failures))
    print('p50 %.1f ms  p99 %.1f ms  max %.1f ms'
          % (1000 * timings[len(timings) // 2],
             1000 * timings[int(len(timings) * 0.99) - 1],
             1000 * timings[-1]))

    statuses = {}
    deadline = time.monotonic() + 60
    for sock in held[:len(ids)]:
        sock.settimeout(max(deadline - time.monotonic(), 0.1))
        try:
            line = sock.recv(64).split(b'\r\n')[0]
            code = line.split(b' ')[1].decode() if line else 'closed'
        except OSError as e:
            code = type(e).__name__
        statuses[code] = statuses.get(code, 0) + 1
    print('stalled uploads ended with: %s after %.1f s'
          % (statuses, time.monotonic() - opened))
    for item in held:
        item.close()


if __name__ == '__main__':
    main()
