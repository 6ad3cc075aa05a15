import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { start } from '../../examples/mcp.js'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'

type Api = Awaited<ReturnType<typeof start>>

let issuer: TestIssuer
let api: Api
const clients: Client[] = []

beforeAll(async () => {
  issuer = await createTestIssuer({ algorithms: ['ES256'] })
  api = await start({ issuer: issuer.issuer })
})

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
})

afterAll(async () => {
  await api?.close()
  await issuer?.close()
})

/** A token the MCP server accepts: its audience is the server's resource URL. */
const tokenWith = (scope: string) => issuer.sign({ scope, client_id: 'agent-7', aud: api.resource }, { alg: 'ES256' })

/** The SDK's own client over Streamable HTTP, sending the token on every request. */
async function connect(token: string): Promise<Client> {
  const client = new Client({ name: 'test-agent', version: '1.0.0' })
  const transport = new StreamableHTTPClientTransport(new URL(api.resource), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  })
  await client.connect(transport)
  clients.push(client)
  return client
}

describe('examples/mcp.ts: an MCP server guarded by jwtguard', () => {
  const metadataUrl = () => `${api.url}/.well-known/oauth-protected-resource/mcp`

  it('answers an MCP request without a token with 401 pointing to its metadata', async () => {
    const res = await fetch(api.resource, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    })
    await res.arrayBuffer()
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe(`Bearer realm="api", resource_metadata="${metadataUrl()}"`)
  })

  it('serves its RFC 9728 metadata without a token', async () => {
    const res = await fetch(metadataUrl())
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({
      resource: api.resource,
      authorization_servers: [issuer.issuer],
      scopes_supported: ['orders:read', 'orders:write'],
      bearer_methods_supported: ['header'],
      resource_name: 'Orders MCP server',
    })
  })

  it('refuses a token issued for another audience', async () => {
    const token = await issuer.sign({ scope: 'orders:read' }, { alg: 'ES256' })
    const res = await fetch(api.resource, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
    await res.arrayBuffer()
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer realm="api", error="invalid_token", error_description="Unexpected token audience", resource_metadata="${metadataUrl()}"`,
    )
  })

  it('lets an SDK client with orders:read list the tools and call list_orders', async () => {
    const client = await connect(await tokenWith('orders:read'))
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['list_orders', 'create_order'])
    const result = await client.callTool({ name: 'list_orders', arguments: {} })
    expect(result.isError).toBeFalsy()
    expect(result.content).toEqual([{ type: 'text', text: JSON.stringify([{ id: 1, item: 'coffee beans', quantity: 2 }]) }])
  })

  it('refuses create_order to a token without orders:write', async () => {
    const client = await connect(await tokenWith('orders:read'))
    const result = await client.callTool({ name: 'create_order', arguments: { item: 'tea', quantity: 1 } })
    expect(result).toEqual({
      isError: true,
      content: [{ type: 'text', text: 'insufficient_scope: this tool needs the scope orders:write' }],
    })
  })

  it('lets a token with orders:write create an order, with the caller from extra.authInfo', async () => {
    const client = await connect(await tokenWith('orders:read orders:write'))
    const result = await client.callTool({ name: 'create_order', arguments: { item: 'tea', quantity: 3 } })
    expect(result.isError).toBeFalsy()
    expect(result.content).toEqual([{ type: 'text', text: JSON.stringify({ id: 2, item: 'tea', quantity: 3, createdBy: 'agent-7' }) }])
  })

  it('refuses list_orders to a token with neither scope', async () => {
    const client = await connect(await tokenWith('profile'))
    expect(await client.callTool({ name: 'list_orders', arguments: {} })).toEqual({
      isError: true,
      content: [{ type: 'text', text: 'insufficient_scope: this tool needs the scope orders:read' }],
    })
  })
})
