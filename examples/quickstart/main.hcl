# Quickstart: Dynamics orgs behind one app registration and one user, run
# against `connform emulator`, which writes this folder's variables into
# emulator.auto.vars.hcl (loaded without a flag; see README.md). Then
# `connform plan` and `connform apply`: one sign-in serves every org.

variable "authority" {
  type        = string
  description = "The Entra ID authority: the emulator's \"authority\" field, or https://login.microsoftonline.com."
}

variable "tenant_id" {
  type        = string
  description = "Directory (tenant) id of the app registration."
}

variable "client_id" {
  type        = string
  description = "Application (client) id of a public client app with redirect http://localhost."
}

variable "orgs" {
  type        = map(string)
  description = "Short name to org URL; any URL form Dynamics shows is accepted."
}

locals {
  endpoint = "${var.authority}/${var.tenant_id}/oauth2/v2.0"
}

connform {
  state_path     = "connform.state.json"
  library_path   = "library"
  library_format = "dsconn"
}

connection "crm" {
  for_each = var.orgs

  url               = each.value
  tenant_id         = var.tenant_id
  client_id         = var.client_id
  authorization_url = "${local.endpoint}/authorize"
  token_url         = "${local.endpoint}/token"
  description       = "Dynamics org ${upper(each.key)}"
}
