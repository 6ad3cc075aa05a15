// An MCP server (Model Context Protocol, Streamable HTTP transport) guarded by jwtguard, on Express 5.
// Built with the official SDK, @modelcontextprotocol/sdk 1.x: its McpServer and StreamableHTTPServerTransport
// run on Node 20. In your app, import from 'jwtguard/express'.
//
// What makes it an OAuth protected resource as the MCP authorization spec asks: the guard serves the RFC 9728
// metadata at /.well-known/oauth-protected-resource/mcp, and every 401 points to it (`resource_metadata`),
// which is how an MCP client finds the authorization server to get a token from.
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import type { AuthInfo as McpAuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import express from 'express'
import { z } from 'zod'
import { jwtGuard } from '../adapters/express.js'
import type { AuthInfo } from '../src/index.js'

const ORDERS = [{ id: 1, item: 'coffee beans', quantity: 2 }]

/** A tool's answer when the token lacks the scope it needs: a tool error the model can read, not a crash. */
function missingScope(auth: McpAuthInfo | undefined, scope: string): CallToolResult | undefined {
  if (auth?.scopes.includes(scope)) return undefined
  return { isError: true, content: [{ type: 'text', text: `insufficient_scope: this tool needs the scope ${scope}` }] }
}

/** The MCP server and its tools, each gated by a scope of the caller's token (`extra.authInfo`). */
function ordersServer(): McpServer {
  const server = new McpServer({ name: 'orders', version: '1.0.0' })
  server.registerTool(
    'list_orders',
    { description: 'List the orders (scope orders:read)', inputSchema: {} },
    async (_args, { authInfo }) => missingScope(authInfo, 'orders:read') ?? { content: [{ type: 'text', text: JSON.stringify(ORDERS) }] },
  )
  server.registerTool(
    'create_order',
    { description: 'Create an order (scope orders:write)', inputSchema: { item: z.string(), quantity: z.number().int().positive() } },
    async ({ item, quantity }, { authInfo }) => {
      const refused = missingScope(authInfo, 'orders:write')
      if (refused) return refused
      const order = { id: ORDERS.length + 1, item, quantity, createdBy: authInfo?.clientId }
      return { content: [{ type: 'text', text: JSON.stringify(order) }] }
    },
  )
  return server
}

/** jwtguard's AuthInfo in the shape the SDK hands its handlers as `extra.authInfo`. */
function mcpAuthInfo(auth: AuthInfo, resource: string): McpAuthInfo {
  const { client_id: clientId, azp, sub, exp } = auth.payload
  return {
    token: auth.token,
    clientId: String(clientId ?? azp ?? sub ?? ''),
    scopes: auth.scopes,
    ...(typeof exp === 'number' && { expiresAt: exp }),
    resource: new URL(resource),
    extra: { sub },
  }
}

// `issuer`: who signs the tokens (found by OIDC discovery); `audience`: by default the MCP server's own URL,
// since MCP clients ask for tokens for that resource (RFC 8707).
export async function start(options: {
  issuer: string
  audience?: string | string[]
  port?: number
}): Promise<{ url: string; resource: string; close(): Promise<void> }> {
  // The resource identifier is the server's URL: listen first to know the port.
  const server = createServer()
  server.listen(options.port ?? 0, '127.0.0.1')
  await once(server, 'listening')
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const resource = `${url}/mcp`

  const app = express()
  app.use(
    jwtGuard({
      issuer: options.issuer,
      audience: options.audience ?? resource,
      resourceMetadata: {
        resource,
        authorizationServers: [options.issuer],
        scopesSupported: ['orders:read', 'orders:write'],
        resourceName: 'Orders MCP server',
      },
    }),
  )
  // Parsed only once the token has passed.
  app.use(express.json())

  // Stateless Streamable HTTP: a server and a transport per request, as the SDK recommends without sessions.
  app.post('/mcp', async (req, res) => {
    const mcp = ordersServer()
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true })
    res.on('close', () => {
      void transport.close()
      void mcp.close()
    })
    await mcp.connect(transport)
    // The transport reads the caller from `req.auth`, in the SDK's own AuthInfo shape.
    await transport.handleRequest(Object.assign(req, { auth: mcpAuthInfo(req.auth!, resource) }), res, req.body)
  })
  // No sessions, so no server-to-client stream (GET) and nothing to end (DELETE).
  app.all('/mcp', (_req, res) => {
    res
      .status(405)
      .set('Allow', 'POST')
      .json({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed' }, id: null })
  })

  server.on('request', app)
  return {
    url,
    resource,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()))
        server.closeAllConnections()
      }),
  }
}
