# Simego Data Sync's manual Dynamics recipe, declared: a custom Entra ID app registration
# (redirect http://localhost, delegated Dynamics CRM user_impersonation),
# the authorization_code grant with PKCE, and the v2 endpoints derived from
# the tenant. Set the variables in connform.vars.hcl or as
# CONNFORM_VAR_tenant_id / CONNFORM_VAR_client_id / CONNFORM_VAR_client_secret.

variable "tenant_id" {
  type        = string
  description = "Directory (tenant) id from the app registration's overview."

  validation {
    condition     = length(var.tenant_id) == 36
    error_message = "The tenant_id must be the directory's GUID: a single-tenant app used with common fails with AADSTS50194."
  }
}

variable "client_id" {
  type        = string
  description = "Application (client) id from the app registration's overview."
}

variable "client_secret" {
  type        = string
  sensitive   = true
  default     = ""
  description = "The client secret's value (not its id). Leave empty for a public client app."
}

variable "org_url" {
  type        = string
  description = "Your Dynamics site, e.g. https://contoso.crm4.dynamics.com (paste any form)."
}

connection "dynamics" {
  url           = var.org_url
  tenant_id     = var.tenant_id
  client_id     = var.client_id
  client_secret = var.client_secret
  grant_type    = "authorization_code"
  redirect      = "http://localhost"
  prompt        = "select_account"
  description   = "Dynamics 365 through a custom Azure app (authorization code + PKCE)"

  lifecycle {
    prevent_destroy = true
  }
}
